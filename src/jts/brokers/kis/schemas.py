"""The fields each KIS request must carry with a value, per endpoint.

Taken from the official samples (koreainvestment/open-trading-api,
``examples_user/domestic_stock/domestic_stock_functions.py``): the parameters
marked ``[필수]`` there and checked against ``""`` before sending. Fields the
samples send empty on purpose (``FID_ETC_CLS_CODE``, ``OFL_YN``, ``PDNO`` and
``ODNO`` of the order inquiry, the paging cursors) are not listed. ``KisRest``
checks every request against this table, so no builder can put an empty
identifier on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping

from jts.brokers.common.requests import require_fields
from jts.brokers.kis.environments import Paths

_ACCOUNT = ("CANO", "ACNT_PRDT_CD")
_QUOTE = ("FID_COND_MRKT_DIV_CODE", "FID_INPUT_ISCD")

REQUIRED: dict[str, tuple[str, ...]] = {
    Paths.TOKEN: ("grant_type", "appkey", "appsecret"),
    # The approval endpoint names the secret ``secretkey``.
    Paths.APPROVAL: ("grant_type", "appkey", "secretkey"),
    Paths.PRICE: _QUOTE,
    Paths.DAILY_CHART: (
        *_QUOTE,
        "FID_INPUT_DATE_1",
        "FID_INPUT_DATE_2",
        "FID_PERIOD_DIV_CODE",
        "FID_ORG_ADJ_PRC",
    ),
    Paths.MINUTE_CHART_TODAY: (*_QUOTE, "FID_INPUT_HOUR_1", "FID_PW_DATA_INCU_YN"),
    Paths.MINUTE_CHART_PAST: (*_QUOTE, "FID_INPUT_HOUR_1", "FID_INPUT_DATE_1"),
    Paths.ORDER_CASH: (
        *_ACCOUNT,
        "PDNO",
        "ORD_DVSN",
        "ORD_QTY",
        "ORD_UNPR",
        "EXCG_ID_DVSN_CD",
    ),
    Paths.MODIFY_CANCEL: (
        *_ACCOUNT,
        "KRX_FWDG_ORD_ORGNO",
        "ORGN_ODNO",
        "ORD_DVSN",
        "RVSE_CNCL_DVSN_CD",
        "ORD_QTY",
        "ORD_UNPR",
        "QTY_ALL_ORD_YN",
        "EXCG_ID_DVSN_CD",
    ),
    Paths.BALANCE: (
        *_ACCOUNT,
        "AFHR_FLPR_YN",
        "INQR_DVSN",
        "UNPR_DVSN",
        "FUND_STTL_ICLD_YN",
        "FNCG_AMT_AUTO_RDPT_YN",
        "PRCS_DVSN",
    ),
    Paths.DAILY_ORDERS: (
        *_ACCOUNT,
        "INQR_STRT_DT",
        "INQR_END_DT",
        "SLL_BUY_DVSN_CD",
        "CCLD_DVSN",
        "INQR_DVSN",
        "INQR_DVSN_3",
    ),
}


def check_request(
    path: str, payload: Mapping[str, object], *, account: str, tr_id: str | None = None
) -> None:
    """Refuse (``IncompleteRequest``) a request to ``path`` missing a required value.

    ``tr_id`` is required of every ``/uapi`` call; a path missing from the table is a
    programming error: a new endpoint must say what it needs.
    """
    if path not in REQUIRED:
        raise KeyError(f"KIS {path}: no required-field list; add it to REQUIRED")
    required = REQUIRED[path]
    fields = dict(payload)
    if tr_id is not None:
        fields["tr_id"] = tr_id
        required = ("tr_id", *required)
    require_fields("KIS", f"account {account} {tr_id or path}", fields, required)
