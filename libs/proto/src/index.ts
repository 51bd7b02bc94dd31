export * from './gen/trellis/events/v1/envelope_pb';
