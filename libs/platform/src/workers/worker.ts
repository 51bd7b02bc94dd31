/**
 * Background work of a service, declared in its definition's `workers` and provided by its Nest
 * module. The kit starts it once the service's database is migrated and its server listens, on
 * one replica at a time, and aborts `signal` when the service drains or this replica stops
 * leading. `run` works until then and returns promptly once `signal` aborts; if it throws or
 * returns early, the kit logs it and runs it again after a back-off.
 */
export interface Worker {
  run(signal: AbortSignal): Promise<void>;
}
