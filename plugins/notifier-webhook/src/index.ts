import { notifierWebhookPlugin } from './notifier-webhook.plugin';

export { notifierWebhookConfig } from './notifier-webhook.plugin';
export default notifierWebhookPlugin;
