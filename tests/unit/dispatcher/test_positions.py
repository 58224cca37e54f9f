"""The position pipeline: noise is dropped with a reason; grid changes count only after a dwell."""

from datetime import UTC, datetime, timedelta

from dispatcher.fleet.positions import DWELL_FIXES, Fix, Track, advance, rejection

T = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def fix(seconds=0, lon=120.16, lat=30.27, **kw):
    return Fix(device_id="d1", at=T + timedelta(seconds=seconds), lon=lon, lat=lat, **kw)


def track(seconds=0, lon=120.16, lat=30.27, grid="A"):
    return Track(lon=lon, lat=lat, at=T + timedelta(seconds=seconds), grid=grid)


def test_good_fixes_pass():
    assert rejection(fix(), None, T) is None
    assert rejection(fix(5, lon=120.16005), track(), T) is None


def test_noise_is_rejected_with_the_reason():
    assert "accuracy" in rejection(fix(accuracy_m=150), None, T)
    assert "future" in rejection(fix(3600), None, T)
    assert "duplicate" in rejection(fix(0), track(0), T)
    assert "out of order" in rejection(fix(-5), track(0), T)
    assert "speed" in rejection(fix(5, lon=120.17), track(0), T)  # ~960 m in 5 s


def test_first_fix_enters_its_grid():
    new, events = advance(None, fix(), "A")
    assert new.grid == "A" and events == ["enter:A"]


def test_border_jitter_does_not_flip_the_grid():
    last = track(grid="A")
    for i, grid in enumerate(["B", "A", "B", "A"], start=1):
        last, events = advance(last, fix(i), grid)
        assert events == [] and last.grid == "A"


def test_a_real_move_is_confirmed_after_the_dwell():
    last = track(grid="A")
    events = []
    for i in range(1, DWELL_FIXES + 1):
        last, events = advance(last, fix(i), "B")
    assert last.grid == "B" and events == ["exit:A", "enter:B"]


def test_a_long_stay_confirms_even_with_few_fixes():
    last, _ = advance(track(grid="A"), fix(1), "B")
    last, events = advance(last, fix(30), "B")
    assert events == ["exit:A", "enter:B"]


def test_track_survives_json_round_trip():
    last, _ = advance(track(grid="A"), fix(1), "B")
    assert Track.from_json(last.to_json()) == last
