import collections
import tests.unit.dispatcher.test_loop_machine as m
from hypothesis import settings, HealthCheck, Phase, seed
from hypothesis.stateful import run_state_machine_as_test

def test_dbg(city):
    ev = collections.Counter()
    m.event = lambda s: ev.update([s])
    orig = m.LoopMachine.advance
    m.LoopMachine.reached.clear()
    run_state_machine_as_test(seed(20261202)(lambda: m.LoopMachine(city)), settings=settings(max_examples=8, stateful_step_count=60, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    for k, v in sorted(ev.items()): print(v, k)
    print(dict(m.LoopMachine.reached))
