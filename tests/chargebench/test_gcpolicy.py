"""The heap freezer (chargebench.gcpolicy): survivors frozen, a full pass after disconnects."""

from __future__ import annotations

import gc

from chargebench.gcpolicy import HeapFreezer


class TestHeapFreezer:
    def test_step_freezes_survivors(self):
        """After a step, what survived is out of reach of automatic collections."""
        freezer = HeapFreezer(lambda: 1000)
        kept = [{"n": n} for n in range(1000)]
        try:
            freezer.step()
            assert gc.get_freeze_count() >= len(kept)
            assert freezer.full_passes == 0
        finally:
            gc.unfreeze()

    def test_full_pass_after_enough_disconnects(self):
        """Disconnects of a tenth of the live connections trigger one full pass, then reset."""
        freezer = HeapFreezer(lambda: 1000, reclaim_fraction=0.1, reclaim_min=10)
        try:
            for _ in range(99):
                freezer.note_closed()
            freezer.step()
            assert freezer.full_passes == 0
            freezer.note_closed()
            freezer.step()
            assert freezer.full_passes == 1 and freezer.closed == 0
        finally:
            gc.unfreeze()

    def test_disconnects_counter_read_at_each_step(self):
        """An owner's running total of disconnects counts like as many `note_closed()`."""
        total = [5]
        freezer = HeapFreezer(lambda: 1000, reclaim_min=10, disconnects=lambda: total[0])
        try:
            total[0] = 104  # 99 since construction
            freezer.step()
            assert freezer.full_passes == 0 and freezer.closed == 99
            total[0] = 105
            freezer.step()
            assert freezer.full_passes == 1 and freezer.closed == 0
        finally:
            gc.unfreeze()
