import type { JobLogLine } from '@trellis/plugin-sdk';

/** The variable that hands the driver its job: `{ replicas, bundle, command, masterPort }` as JSON. */
export const GANG_VARIABLE = 'TRELLIS_RAY_GANG';

/** What the driver of a job of several replicas is told. */
export interface Gang {
  replicas: number;
  /** What each replica reserves, in Ray's resource names (`CPU`, `GPU`, `memory`, `accelerator_type:<type>`). */
  bundle: Record<string, number>;
  command: readonly string[];
  masterPort: number;
}

/**
 * The driver of a job of several replicas, a Python program run as the Ray job's entrypoint. It
 * reserves one placement-group bundle per replica (all of them or none, Ray's gang scheduling), finds
 * the node of each bundle, then runs the job's command once per bundle as a Ray task with the
 * rendezvous variables (`RANK`, `LOCAL_RANK`, `WORLD_SIZE`, `MASTER_ADDR` = replica 0's node,
 * `MASTER_PORT`). Each output line is printed with a `[trellis-replica <i> out|err]` mark, which Ray
 * forwards into the job's log. The first replica to fail ends the others; the driver exits with its code.
 */
export const GANG_DRIVER = `
import ctypes, json, os, signal, subprocess, sys, threading
import ray
from ray.util.placement_group import placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

gang = json.loads(os.environ["${GANG_VARIABLE}"])
replicas, bundle = gang["replicas"], gang["bundle"]
ray.init()
group = placement_group([dict(bundle) for _ in range(replicas)], strategy="PACK")
ray.get(group.ready())

def place(index):
    return PlacementGroupSchedulingStrategy(placement_group=group, placement_group_bundle_index=index)

@ray.remote(num_cpus=0)
def node_address():
    return ray.util.get_node_ip_address()

def die_with_parent():
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)
    except Exception:
        pass

@ray.remote
def replica(index, variables):
    env = dict(os.environ)
    env.pop("${GANG_VARIABLE}", None)
    env.update(variables)
    child = subprocess.Popen(gang["command"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=die_with_parent)
    def copy(stream, name):
        for raw in iter(stream.readline, b""):
            print("[trellis-replica %d %s] %s" % (index, name, raw.decode("utf-8", "replace").rstrip("\\n")), flush=True)
    errors = threading.Thread(target=copy, args=(child.stderr, "err"))
    errors.start()
    copy(child.stdout, "out")
    errors.join()
    code = child.wait()
    return code if code >= 0 else 128 - code

addresses = ray.get([node_address.options(scheduling_strategy=place(i)).remote() for i in range(replicas)])
options = {"num_cpus": bundle.get("CPU", 0), "num_gpus": bundle.get("GPU", 0), "resources": {k: v for k, v in bundle.items() if k not in ("CPU", "GPU", "memory")}}
if bundle.get("memory"):
    options["memory"] = bundle["memory"]
seen, running = {}, []
for i in range(replicas):
    local_rank = seen.get(addresses[i], 0)
    seen[addresses[i]] = local_rank + 1
    variables = {"TRELLIS_REPLICA_INDEX": str(i), "RANK": str(i), "LOCAL_RANK": str(local_rank), "WORLD_SIZE": str(replicas), "MASTER_ADDR": addresses[0], "MASTER_PORT": str(gang["masterPort"])}
    running.append(replica.options(scheduling_strategy=place(i), **options).remote(i, variables))
code = 0
while running and code == 0:
    done, running = ray.wait(running, num_returns=1)
    code = ray.get(done[0])
for rest in running:
    ray.cancel(rest, force=True)
sys.exit(code)
`;

/** A replica's line in the job's log; Ray puts `(replica pid=.., ip=..)` and colours in front of it. */
const MARKED = /\[trellis-replica (\d+) (out|err)\] ?(.*)$/;
// eslint-disable-next-line no-control-regex -- the escape sequences Ray colours its prefixes with
const COLOUR = /\x1b\[[0-9;]*m/g;

/**
 * A line of a Ray job's log as the contract's log line. A single replica's entrypoint is the job's
 * command, whose stdout and stderr Ray writes into one log: its lines are replica 0's stdout. In a job
 * of several replicas, a marked line is its replica's; the driver's own (Ray's messages, a traceback)
 * are replica 0's stderr.
 */
export function logLine(text: string, gang: boolean, time: Date): JobLogLine {
  if (!gang) return { time, stream: 'stdout', replica: 0, line: text };
  const marked = MARKED.exec(text.replace(COLOUR, ''));
  if (!marked) return { time, stream: 'stderr', replica: 0, line: text };
  return { time, stream: marked[2] === 'err' ? 'stderr' : 'stdout', replica: Number(marked[1]), line: marked[3] };
}
