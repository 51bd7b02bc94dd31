export * from './gen/trellis/audit/v1/audit_event_pb';
export * from './gen/trellis/events/v1/envelope_pb';
export * from './gen/trellis/governance/v1/approval_service_pb';
export * from './gen/trellis/governance/v1/audit_service_pb';
export * from './gen/trellis/governance/v1/identity_service_pb';
export * from './gen/trellis/governance/v1/resources_pb';
export * from './gen/trellis/governance/v1/token_service_pb';
