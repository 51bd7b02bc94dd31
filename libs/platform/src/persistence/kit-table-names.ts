/** The table the transactional outbox writes to, in every service database. */
export const OUTBOX_TABLE = 'trellis_outbox';

/** The inbox table that records which events each consumer has already acted on. */
export const PROCESSED_EVENTS_TABLE = 'trellis_processed_events';
