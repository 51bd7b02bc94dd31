import { startDistributedPlatform, type DistributedPlatform, type Program } from './distributed-platform';
import { runUserFlow } from './user-flow';

/** Per process, one counter series a single run of the user flow moves by exactly one. */
const MOVED_BY_THE_FLOW: Record<Program, string> = {
  governance: 'grpc_server_handled_total{grpc_service="trellis.governance.v1.IdentityService",grpc_method="CreateProject",grpc_code="OK"}',
  tracking: 'grpc_server_handled_total{grpc_service="trellis.tracking.v1.ExperimentService",grpc_method="CreateExperiment",grpc_code="OK"}',
  registry: 'grpc_server_handled_total{grpc_service="trellis.registry.v1.RegistryService",grpc_method="CreateVersion",grpc_code="OK"}',
  data: 'grpc_server_handled_total{grpc_service="trellis.data.v1.DataService",grpc_method="CreateDataset",grpc_code="OK"}',
  compute: 'grpc_server_handled_total{grpc_service="trellis.compute.v1.JobService",grpc_method="SubmitJob",grpc_code="OK"}',
  serving: 'grpc_server_handled_total{grpc_service="trellis.serving.v1.EndpointService",grpc_method="CreateEndpoint",grpc_code="OK"}',
  monitoring: 'grpc_server_handled_total{grpc_service="trellis.monitoring.v1.MonitoringService",grpc_method="CreateMonitor",grpc_code="OK"}',
  gateway: 'trellis_http_requests_total{edge="gateway",route="/v2/*",method="POST",status="200"}',
};

/** A series' value in a Prometheus text exposition; 0 when the process has not exported it yet. */
function valueOf(exposition: string, series: string): number {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/**
 * Issue 18's end-to-end suite in distributed mode: every service its own process (the layout of
 * `npm run start:distributed`, through its script) on PostgreSQL and NATS JetStream, and a user's
 * whole path through the gateway: dataset, training job, registered model, endpoint, predictions,
 * monitor. Each process's /metrics shows the calls the flow made to it.
 */
describe('a user flow through the gateway, every service its own process', () => {
  let platform: DistributedPlatform;

  beforeAll(async () => {
    platform = await startDistributedPlatform();
  }, 240_000);

  afterAll(async () => platform?.close(), 60_000);

  const metricsOf = async (program: Program) => {
    const response = await fetch(`${platform.processes[program].ops}/metrics`);
    expect({ program, status: response.status }).toEqual({ program, status: 200 });
    return response.text();
  };

  it('takes a dataset to a trained, registered, served and monitored model, and every process counts its part', async () => {
    const programs = Object.keys(MOVED_BY_THE_FLOW) as Program[];
    const before = await Promise.all(programs.map(async (program) => valueOf(await metricsOf(program), MOVED_BY_THE_FLOW[program])));

    await runUserFlow(platform, 'distributed');

    const after = await Promise.all(programs.map(async (program) => valueOf(await metricsOf(program), MOVED_BY_THE_FLOW[program])));
    expect(Object.fromEntries(programs.map((program, i) => [program, after[i] - before[i]]))).toEqual(Object.fromEntries(programs.map((program) => [program, 1])));
  }, 180_000);
});
