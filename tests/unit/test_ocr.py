"""The OCR engine is shared one page at a time: waiting for it neither uses up a document's time nor ignores a stop."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.text import ocr
from service.text.limits import Budget, ParseCancelled, ParseLimits
from tests.support.pictures import picture


def test_time_queued_for_the_engine_does_not_count_against_the_timeout() -> None:
    ocr._ocr_engine()  # built before the clock starts: building it is work, not queueing
    budget = Budget(ParseLimits(timeout=0.5))
    with ThreadPoolExecutor(1) as pool:
        with ocr._run_lock:  # another document's page, for longer than this document may take
            reading = pool.submit(ocr.recognise, picture("Read after the queue"), budget)
            time.sleep(1.5)
            assert not reading.done()
        assert reading.result(timeout=60) == "Read after the queue"


def test_a_stop_while_queued_for_the_engine_ends_the_wait() -> None:
    budget = Budget()
    with ThreadPoolExecutor(1) as pool, ocr._run_lock:
        reading = pool.submit(ocr.recognise, picture("Never read"), budget)
        time.sleep(0.3)
        budget.stop()
        with pytest.raises(ParseCancelled):
            reading.result(timeout=2)
    assert not ocr._run_lock.locked()  # the stopped reader never took the engine
