"""The ``errors`` table: one row per response that carries an ``error``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vision_results.batch import Batch
from vision_results.messages import STATUS
from vision_results.status import GRPC_STATUS
from vision_results.tables import _arrow
from vision_results.tables._common import table_schema
from vision_results.tables._registry import Declaration

SCHEMA = table_schema(
    pa.field("code", pa.int32()),
    pa.field("status", pa.string()),
    pa.field("message", pa.string()),
    pa.field("details", pa.string()),
)


def flatten(batch: Batch) -> dict[str, pa.Table]:
    error = batch.field("error")
    codes = _arrow.number(_arrow.field(error, "code"), 0)
    messages = _arrow.text(_arrow.field(error, "message"))
    # As response_error: an all-default error (code 0, no message) is no error.
    is_error = pc.or_(pc.not_equal(codes, 0), pc.is_valid(messages))
    rows = np.flatnonzero(is_error.to_numpy(zero_copy_only=False))
    index = pa.array(rows, pa.int64())
    code = codes.take(index)
    known = pc.and_(pc.greater_equal(code, 0), pc.less(code, len(GRPC_STATUS)))
    names = pa.array(GRPC_STATUS).take(pc.if_else(known, code, 0))
    columns = {
        **batch.keys(rows),
        "code": code,
        "status": pc.if_else(known, names, pc.cast(code, pa.string())),
        "message": messages.take(index),
        "details": _arrow.field(error, "details").take(index),
    }
    return {"errors": pa.Table.from_pydict(columns, schema=SCHEMA)}


DECLARATION = Declaration(
    tables={"errors": SCHEMA},
    reads={"error": STATUS},
    flatten=flatten,
    position=110,
)
