import { notifierWebhookPlugin } from './notifier-webhook.plugin';

export type { WebhookAlertBody } from './alert-body';
export { DEAD_LETTER_FILE, type DeadLetter, readDeadLetters } from './dead-letters';
export { notifierWebhookConfig, type NotifierWebhookConfig } from './notifier-webhook.plugin';
export { DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, type SignatureCheck, verifySignature } from './signature';
export { DELIVERY_HEADER, WebhookNotifier } from './webhook-notifier';
export default notifierWebhookPlugin;
