import threading

from ronda.pipeline.queues import BoundedQueue, Entry


def test_drop_newest_cuts_incoming_and_counts() -> None:
    q = BoundedQueue(10, "drop_newest")
    assert q.put(Entry("e", list(range(8)))) == 0
    assert q.put(Entry("e", list(range(5)))) == 3
    assert q.depth == 10
    first = q.get(0)
    assert first is not None and first.items == list(range(8))
    second = q.get(0)
    assert second is not None and second.items == [0, 1]


def test_drop_oldest_keeps_newest_and_control_entries() -> None:
    q = BoundedQueue(10, "drop_oldest")
    q.put(Entry("e", list(range(6))))
    q.put(Entry("barrier", control="B"))
    assert q.put(Entry("e", list(range(100, 108)))) == 4
    got = [q.get(0) for _ in range(3)]
    assert [g.kind for g in got if g] == ["e", "barrier", "e"]
    assert got[0] is not None and got[0].items == [4, 5]
    assert got[2] is not None and got[2].items == list(range(100, 108))


def test_block_waits_for_room_without_loss() -> None:
    q = BoundedQueue(10, "block")
    q.put(Entry("e", list(range(10))))
    done = threading.Event()

    def producer() -> None:
        q.put(Entry("e", [99]))
        done.set()

    t = threading.Thread(target=producer)
    t.start()
    assert not done.wait(0.3)
    assert q.get(1) is not None
    assert done.wait(5)
    t.join()
    last = q.get(1)
    assert last is not None and last.items == [99]


def test_per_put_policy_override() -> None:
    q = BoundedQueue(5, "block")
    q.put(Entry("e", [1, 2, 3, 4, 5]))
    assert q.put(Entry("e", [6, 7]), "drop_newest") == 2
