"""The Ray library as the fake dashboard's entrypoints see it: the calls the compute-ray gang driver
makes, with tasks run as threads of the driver process on this one "node". Placement groups reserve
nothing here (the fake checks the entrypoint's resources only), so a gang never waits."""
import threading
from concurrent.futures import FIRST_COMPLETED, Future, wait as wait_futures

from . import util  # noqa: F401  (ray.util is an attribute of ray, as in Ray)


class ObjectRef:
    def __init__(self, future):
        self.future = future


def init(*args, **kwargs):
    return None


def _run(function, args):
    future = Future()

    def target():
        try:
            future.set_result(function(*args))
        except BaseException as error:  # a task's error is raised by ray.get
            future.set_exception(error)

    # Daemon threads end with the driver, as a job's tasks end with its driver in Ray.
    threading.Thread(target=target, daemon=True).start()
    return ObjectRef(future)


class RemoteFunction:
    def __init__(self, function):
        self._function = function

    def options(self, **options):
        return self

    def remote(self, *args):
        return _run(self._function, args)


def remote(*args, **options):
    if len(args) == 1 and callable(args[0]) and not options:
        return RemoteFunction(args[0])
    return RemoteFunction


def get(refs):
    if isinstance(refs, list):
        return [ref.future.result() for ref in refs]
    return refs.future.result()


def wait(refs, num_returns=1):
    pending = list(refs)
    done = []
    while len(done) < num_returns and pending:
        finished, _ = wait_futures([ref.future for ref in pending], return_when=FIRST_COMPLETED)
        for ref in list(pending):
            if ref.future in finished and len(done) < num_returns:
                done.append(ref)
                pending.remove(ref)
    return done, pending


def cancel(ref, force=False):
    return None


def _done(value=None):
    future = Future()
    future.set_result(value)
    return ObjectRef(future)
