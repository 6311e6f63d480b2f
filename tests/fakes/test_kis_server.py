"""Protocol tests for the KIS fake, driven with plain httpx and websockets clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from .kis_server import NOTICE_COLUMNS
from .kis_server import TRADE_COLUMNS
from .kis_server import FakeKis
from .kis_server import aes_decrypt

APP_KEY = "PSfakeappkey0000000000000000000000000"
APP_SECRET = "fake-secret"
CANO = "50123456"
TODAY = datetime.now(timezone(timedelta(hours=9))).strftime("%Y%m%d")


async def _started(**kwargs: Any) -> FakeKis:
    fake = FakeKis(token_issue_interval_seconds=0.05, **kwargs)
    fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
    await fake.start()
    return fake


@pytest.fixture
async def fake() -> AsyncIterator[FakeKis]:
    server = await _started()
    yield server
    await server.stop()


@pytest.fixture
async def paper() -> AsyncIterator[FakeKis]:
    server = await _started(paper=True, rest_rate_per_second=1000)
    yield server
    await server.stop()


class Client:
    """The few lines of KIS client protocol the tests need."""

    def __init__(self, fake: FakeKis) -> None:
        self.http = httpx.AsyncClient(base_url=fake.rest_url, timeout=5)
        self.token = ""

    async def login(self) -> None:
        resp = await self.http.post(
            "/oauth2/tokenP",
            json={"grant_type": "client_credentials", "appkey": APP_KEY, "appsecret": APP_SECRET},
        )
        assert resp.status_code == 200, resp.text
        self.token = resp.json()["access_token"]

    def headers(self, tr_id: str, tr_cont: str = "") -> dict[str, str]:
        return {
            "content-type": "application/json; charset=utf-8",
            "authorization": f"Bearer {self.token}",
            "appkey": APP_KEY,
            "appsecret": APP_SECRET,
            "tr_id": tr_id,
            "custtype": "P",
            "tr_cont": tr_cont,
        }

    async def get(
        self, path: str, tr_id: str, params: dict[str, str], tr_cont: str = ""
    ) -> httpx.Response:
        return await self.http.get(
            f"/uapi/domestic-stock/v1/{path}", params=params, headers=self.headers(tr_id, tr_cont)
        )

    async def post(self, path: str, tr_id: str, body: dict[str, str]) -> httpx.Response:
        return await self.http.post(
            f"/uapi/domestic-stock/v1/{path}", json=body, headers=self.headers(tr_id)
        )

    async def order(
        self, tr_id: str, code: str, qty: int, price: int, ord_dvsn: str = "00"
    ) -> httpx.Response:
        body = {
            "CANO": CANO,
            "ACNT_PRDT_CD": "01",
            "PDNO": code,
            "ORD_DVSN": ord_dvsn,
            "ORD_QTY": str(qty),
            "ORD_UNPR": str(price),
            "EXCG_ID_DVSN_CD": "KRX",
        }
        return await self.post("trading/order-cash", tr_id, body)

    async def daily_ccld(
        self, tr_id: str, ccld: str = "00", tr_cont: str = "", ctx: str = ""
    ) -> httpx.Response:
        params = {
            "CANO": CANO,
            "ACNT_PRDT_CD": "01",
            "INQR_STRT_DT": TODAY,
            "INQR_END_DT": TODAY,
            "SLL_BUY_DVSN_CD": "00",
            "PDNO": "",
            "CCLD_DVSN": ccld,
            "INQR_DVSN": "00",
            "INQR_DVSN_3": "00",
            "ORD_GNO_BRNO": "",
            "ODNO": "",
            "INQR_DVSN_1": "",
            "CTX_AREA_FK100": ctx,
            "CTX_AREA_NK100": ctx,
        }
        return await self.get("trading/inquire-daily-ccld", tr_id, params, tr_cont)

    async def balance(self, tr_id: str, tr_cont: str = "", ctx: str = "") -> httpx.Response:
        params = {
            "CANO": CANO,
            "ACNT_PRDT_CD": "01",
            "AFHR_FLPR_YN": "N",
            "OFL_YN": "",
            "INQR_DVSN": "02",
            "UNPR_DVSN": "01",
            "FUND_STTL_ICLD_YN": "N",
            "FNCG_AMT_AUTO_RDPT_YN": "N",
            "PRCS_DVSN": "00",
            "CTX_AREA_FK100": ctx,
            "CTX_AREA_NK100": ctx,
        }
        return await self.get("trading/inquire-balance", tr_id, params, tr_cont)

    async def approval_key(self) -> str:
        resp = await self.http.post(
            "/oauth2/Approval",
            json={"grant_type": "client_credentials", "appkey": APP_KEY, "secretkey": APP_SECRET},
        )
        assert resp.status_code == 200, resp.text
        return str(resp.json()["approval_key"])


@pytest.fixture
async def client(fake: FakeKis) -> AsyncIterator[Client]:
    c = Client(fake)
    await c.login()
    yield c
    await c.http.aclose()


@pytest.fixture
async def paper_client(paper: FakeKis) -> AsyncIterator[Client]:
    c = Client(paper)
    await c.login()
    yield c
    await c.http.aclose()


def _subscribe(approval: str, tr_id: str, tr_key: str, tr_type: str = "1") -> str:
    header = {"approval_key": approval, "custtype": "P", "tr_type": tr_type}
    header["content-type"] = "utf-8"
    return json.dumps({"header": header, "body": {"input": {"tr_id": tr_id, "tr_key": tr_key}}})


async def _recv(ws: ClientConnection) -> str:
    message = await asyncio.wait_for(ws.recv(), timeout=2)
    assert isinstance(message, str)
    return message


# ---------------------------------------------------------------------------------- auth


async def test_token_issue_and_quick_reissue_is_refused(fake: FakeKis) -> None:
    async with httpx.AsyncClient(base_url=fake.rest_url) as http:
        body = {"grant_type": "client_credentials", "appkey": APP_KEY, "appsecret": APP_SECRET}
        first = await http.post("/oauth2/tokenP", json=body)
        assert first.status_code == 200
        data = first.json()
        assert data["token_type"] == "Bearer"
        assert data["expires_in"] == 86400
        datetime.strptime(data["access_token_token_expired"], "%Y-%m-%d %H:%M:%S")

        again = await http.post("/oauth2/tokenP", json=body)
        assert again.status_code == 403
        assert again.json()["error_code"] == "EGW00133"

        await asyncio.sleep(0.06)
        third = await http.post("/oauth2/tokenP", json=body)
        assert third.status_code == 200
        assert third.json()["access_token"] != data["access_token"]
        assert fake.token_issuances == 2

        wrong = await http.post("/oauth2/tokenP", json={**body, "appsecret": "nope"})
        assert wrong.status_code == 403
        assert wrong.json()["error_code"] == "EGW00105"


async def test_gateway_rejects_bad_and_expired_tokens(fake: FakeKis, client: Client) -> None:
    fake.set_price("005930", Decimal("70000"))
    params = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"}
    ok = await client.get("quotations/inquire-price", "FHKST01010100", params)
    assert ok.json()["rt_cd"] == "0"

    good = client.token
    client.token = "not-a-token"
    bad = await client.get("quotations/inquire-price", "FHKST01010100", params)
    assert (bad.status_code, bad.json()["msg_cd"]) == (500, "EGW00121")

    client.token = good
    fake.expire_tokens()
    expired = await client.get("quotations/inquire-price", "FHKST01010100", params)
    assert (expired.status_code, expired.json()["msg_cd"]) == (500, "EGW00123")
    assert expired.json()["rt_cd"] == "1"


async def test_paper_refuses_real_tr_ids(paper: FakeKis, paper_client: Client) -> None:
    resp = await paper_client.order("TTTC0012U", "005930", 1, 70000)
    assert resp.status_code == 500
    assert resp.json()["msg1"] == "모의투자 TR 이 아닙니다."
    assert paper.orders == []


async def test_rate_limit_answers_egw00201_and_has_no_effect() -> None:
    fake = await _started(rest_rate_per_second=3)
    client = Client(fake)
    try:
        await client.login()
        codes = []
        for _ in range(4):
            resp = await client.order("TTTC0012U", "005930", 1, 70000)
            codes.append((resp.status_code, resp.json()["msg_cd"]))
        assert codes[3] == (500, "EGW00201")
        assert all(c[0] == 200 for c in codes[:3])
        assert fake.rate_limited == 1
        assert len(fake.orders) == 3
        assert [r[2] for r in fake.requests].count("TTTC0012U") == 4
    finally:
        await client.http.aclose()
        await fake.stop()


# ---------------------------------------------------------------------------------- quotes


async def test_inquire_price_and_unknown_code(fake: FakeKis, client: Client) -> None:
    fake.set_price("005930", Decimal("70000"), volume=10)
    fake.set_price("005930", Decimal("70500"), volume=5)
    params = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"}
    out = (await client.get("quotations/inquire-price", "FHKST01010100", params)).json()["output"]
    assert out["stck_prpr"] == "70500"
    assert out["stck_oprc"] == "70000"
    assert out["stck_hgpr"] == "70500"
    assert out["acml_vol"] == "15"
    assert out["aspr_unit"] == "100"
    assert out["stck_mxpr"] == "91000"
    assert out["stck_llam"] == "49000"

    params["FID_INPUT_ISCD"] = "999999"
    resp = await client.get("quotations/inquire-price", "FHKST01010100", params)
    assert resp.status_code == 200
    assert resp.json()["rt_cd"] == "1"


async def test_minute_and_daily_charts(fake: FakeKis, client: Client) -> None:
    bars = [
        (
            "20260105",
            f"{9 + m // 60:02d}{m % 60:02d}00",
            Decimal(100),
            Decimal(101),
            Decimal(99),
            Decimal(100 + m),
            m,
        )
        for m in range(45)
    ]
    fake.add_minute_bars(
        "005930", [*bars, ("20260102", "153000", Decimal(1), Decimal(1), Decimal(1), Decimal(1), 1)]
    )
    params = {
        "FID_ETC_CLS_CODE": "",
        "FID_COND_MRKT_DIV_CODE": "J",
        "FID_INPUT_ISCD": "005930",
        "FID_INPUT_HOUR_1": "094000",
        "FID_PW_DATA_INCU_YN": "Y",
    }
    rows = (
        await client.get("quotations/inquire-time-itemchartprice", "FHKST03010200", params)
    ).json()["output2"]
    assert len(rows) == 30
    assert rows[0]["stck_cntg_hour"] == "094000"
    assert rows[0]["stck_prpr"] == "140"
    assert rows[-1]["stck_cntg_hour"] == "091100"

    params["FID_INPUT_DATE_1"] = "20260105"
    params["FID_INPUT_HOUR_1"] = "090100"
    by_day = await client.get("quotations/inquire-time-dailychartprice", "FHKST03010230", params)
    hours = [(r["stck_bsop_date"], r["stck_cntg_hour"]) for r in by_day.json()["output2"]]
    assert hours == [("20260105", "090100"), ("20260105", "090000"), ("20260102", "153000")]

    fake.add_daily_bars(
        "005930",
        [
            (f"2025{m:02d}01", Decimal(1), Decimal(2), Decimal(1), Decimal(m), 10)
            for m in range(1, 13)
        ],
    )
    daily = await client.get(
        "quotations/inquire-daily-itemchartprice",
        "FHKST03010100",
        {
            "FID_COND_MRKT_DIV_CODE": "J",
            "FID_INPUT_ISCD": "005930",
            "FID_INPUT_DATE_1": "20250301",
            "FID_INPUT_DATE_2": "20250601",
            "FID_PERIOD_DIV_CODE": "D",
            "FID_ORG_ADJ_PRC": "0",
        },
    )
    dates = [(r["stck_bsop_date"], r["stck_clpr"]) for r in daily.json()["output2"]]
    assert dates == [("20250601", "6"), ("20250501", "5"), ("20250401", "4"), ("20250301", "3")]


# ---------------------------------------------------------------------------------- orders


async def test_order_fill_and_daily_ccld(fake: FakeKis, client: Client) -> None:
    fake.set_price("005930", Decimal("70000"))
    resp = await client.order("TTTC0012U", "005930", 10, 69900)
    assert resp.status_code == 200
    body = resp.json()
    assert body["rt_cd"] == "0"
    odno = body["output"]["ODNO"]
    assert len(odno) == 10 and odno.isdigit()
    assert set(body["output"]) == {"KRX_FWDG_ORD_ORGNO", "ODNO", "ORD_TMD"}

    unfilled = (await client.daily_ccld("TTTC0081R", ccld="02")).json()["output1"]
    assert [(r["odno"], r["rmn_qty"], r["tot_ccld_qty"]) for r in unfilled] == [(odno, "10", "0")]

    fake.set_price("005930", Decimal("69800"))
    assert fake.orders[0].filled_qty == 10
    assert fake.orders[0].avg_price == Decimal("69900")
    filled = (await client.daily_ccld("TTTC0081R", ccld="01")).json()["output1"]
    assert filled[0]["avg_prvs"] == "69900"
    assert filled[0]["tot_ccld_amt"] == "699000"

    balance = (await client.balance("TTTC8434R")).json()
    assert balance["output1"][0]["hldg_qty"] == "10"
    assert balance["output2"][0]["dnca_tot_amt"] == str(100_000_000 - 699_000)

    sell = await client.order("TTTC0011U", "005930", 4, 0, ord_dvsn="01")
    assert sell.json()["rt_cd"] == "0"
    assert fake.orders[1].filled_qty == 4 and fake.orders[1].avg_price == Decimal("69800")


async def test_order_validation_and_rejections(fake: FakeKis, client: Client) -> None:
    fake.set_price("005930", Decimal("70000"))
    off_grid = await client.order("TTTC0012U", "005930", 1, 70050)
    assert (off_grid.status_code, off_grid.json()["rt_cd"]) == (200, "1")
    too_big = await client.order("TTTC0012U", "005930", 10_000, 70000)
    assert too_big.json()["msg_cd"] == "APBK0919"
    no_shares = await client.order("TTTC0011U", "005930", 1, 70000)
    assert no_shares.json()["rt_cd"] == "1"

    fake.reject_next_order("APBK0919", "주문가능금액을 초과 했습니다")
    rejected = await client.order("TTTC0012U", "005930", 1, 70000)
    assert (rejected.status_code, rejected.json()["msg_cd"]) == (200, "APBK0919")
    assert fake.orders == []
    assert (await client.order("TTTC0012U", "005930", 1, 70000)).json()["rt_cd"] == "0"


async def test_cancel_and_modify(fake: FakeKis, client: Client) -> None:
    fake.set_price("005930", Decimal("70000"))
    odno = (await client.order("TTTC0012U", "005930", 5, 69000)).json()["output"]["ODNO"]
    base = {
        "CANO": CANO,
        "ACNT_PRDT_CD": "01",
        "KRX_FWDG_ORD_ORGNO": "91252",
        "ORD_DVSN": "00",
        "ORD_QTY": "0",
        "ORD_UNPR": "69500",
        "QTY_ALL_ORD_YN": "Y",
        "EXCG_ID_DVSN_CD": "KRX",
    }
    modify = await client.post(
        "trading/order-rvsecncl",
        "TTTC0013U",
        {**base, "ORGN_ODNO": odno, "RVSE_CNCL_DVSN_CD": "01"},
    )
    new_odno = modify.json()["output"]["ODNO"]
    assert new_odno != odno
    assert fake.orders[1].orgn_odno == odno and fake.orders[1].price == Decimal("69500")

    cancel = await client.post(
        "trading/order-rvsecncl",
        "TTTC0013U",
        {**base, "ORGN_ODNO": new_odno, "RVSE_CNCL_DVSN_CD": "02", "ORD_UNPR": "0"},
    )
    assert cancel.json()["rt_cd"] == "0"
    assert fake.orders[1].cancelled and fake.orders[1].remaining == 0

    again = await client.post(
        "trading/order-rvsecncl",
        "TTTC0013U",
        {**base, "ORGN_ODNO": new_odno, "RVSE_CNCL_DVSN_CD": "02", "ORD_UNPR": "0"},
    )
    assert (again.status_code, again.json()["rt_cd"]) == (200, "1")
    rows = (await client.daily_ccld("TTTC0081R")).json()["output1"]
    assert [r["cncl_yn"] for r in rows] == ["Y", "N", "N"]  # newest first


async def test_partial_cancel_keeps_the_number_and_rows_show_the_cut(
    fake: FakeKis, client: Client
) -> None:
    fake.set_price("005930", Decimal("70000"))
    odno = (await client.order("TTTC0012U", "005930", 10, 69000)).json()["output"]["ODNO"]
    fake.trade("005930", Decimal("69000"), 3)  # 3 of 10 trade
    cut = await client.post(
        "trading/order-rvsecncl",
        "TTTC0013U",
        {
            "CANO": CANO,
            "ACNT_PRDT_CD": "01",
            "KRX_FWDG_ORD_ORGNO": "91252",
            "ORGN_ODNO": odno,
            "ORD_DVSN": "00",
            "RVSE_CNCL_DVSN_CD": "02",
            "ORD_QTY": "4",
            "ORD_UNPR": "0",
            "QTY_ALL_ORD_YN": "N",
            "EXCG_ID_DVSN_CD": "KRX",
        },
    )
    assert cut.json()["rt_cd"] == "0" and cut.json()["output"]["ODNO"] != odno
    rows = (await client.daily_ccld("TTTC0081R")).json()["output1"]
    [original] = [r for r in rows if r["odno"] == odno]
    # KIS's field names: the cut is in cnc_cfrm_qty, ord_qty stays as ordered.
    assert (original["ord_qty"], original["tot_ccld_qty"]) == ("10", "3")
    assert (original["cnc_cfrm_qty"], original["rmn_qty"], original["cncl_yn"]) == ("4", "3", "N")


async def test_ioc_fills_what_crosses_at_once_and_cancels_the_rest(
    fake: FakeKis, client: Client
) -> None:
    fake.set_price("005930", Decimal("70000"))
    crossing = await client.order("TTTC0012U", "005930", 5, 70000, ord_dvsn="11")
    resting = await client.order("TTTC0012U", "005930", 5, 69000, ord_dvsn="11")
    assert crossing.json()["rt_cd"] == resting.json()["rt_cd"] == "0"
    assert (fake.orders[0].filled_qty, fake.orders[0].remaining) == (5, 0)
    assert (fake.orders[1].filled_qty, fake.orders[1].cancelled_qty) == (0, 5)
    fake.set_price("005930", Decimal("68000"))  # the IOC rest is gone: nothing more fills
    assert fake.orders[1].filled_qty == 0


async def test_drop_next_disconnects_but_order_exists(fake: FakeKis, client: Client) -> None:
    fake.set_price("005930", Decimal("70000"))
    fake.drop_next("/trading/order-cash")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        await client.order("TTTC0012U", "005930", 1, 69000)
    assert len(fake.orders) == 1
    rows = (await client.daily_ccld("TTTC0081R")).json()["output1"]
    assert [r["odno"] for r in rows] == [fake.orders[0].odno]

    fake.drop_next("/trading/order-cash", after_processing=False)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        await client.order("TTTC0012U", "005930", 1, 69000)
    assert len(fake.orders) == 1


async def test_paging_daily_ccld_and_balance(paper: FakeKis, paper_client: Client) -> None:
    paper.set_price("005930", Decimal("1000"))
    for _ in range(20):
        resp = await paper_client.order("VTTC0012U", "005930", 1, 900)
        assert resp.json()["rt_cd"] == "0"
    first = await paper_client.daily_ccld("VTTC0081R")
    assert first.headers["tr_cont"] == "M"
    assert len(first.json()["output1"]) == 15
    ctx = first.json()["ctx_area_nk100"]
    second = await paper_client.daily_ccld("VTTC0081R", tr_cont="N", ctx=ctx)
    assert second.headers["tr_cont"] == "D"
    seen = [r["odno"] for r in first.json()["output1"] + second.json()["output1"]]
    assert seen == sorted((o.odno for o in paper.orders), reverse=True)

    for n in range(25):
        paper.set_position(APP_KEY, f"{n:06d}", 1, Decimal(100))
    page1 = await paper_client.balance("VTTC8434R")
    assert (page1.headers["tr_cont"], len(page1.json()["output1"])) == ("M", 20)
    page2 = await paper_client.balance("VTTC8434R", "N", page1.json()["ctx_area_nk100"])
    assert (page2.headers["tr_cont"], len(page2.json()["output1"])) == ("D", 5)


# ---------------------------------------------------------------------------------- websocket


async def test_ws_trade_frame_and_encrypted_fill_notice(fake: FakeKis, client: Client) -> None:
    approval = await client.approval_key()
    async with connect(f"{fake.ws_url}/tryitout") as ws:
        await ws.send(_subscribe(approval, "H0STCNT0", "005930"))
        ack = json.loads(await _recv(ws))
        assert ack["header"] == {"tr_id": "H0STCNT0", "tr_key": "005930", "encrypt": "N"}
        assert (ack["body"]["rt_cd"], ack["body"]["msg_cd"]) == ("0", "OPSP0000")

        await ws.send(_subscribe(approval, "H0STCNI0", "testuser"))
        notice_ack = json.loads(await _recv(ws))
        assert notice_ack["header"]["encrypt"] == "Y"
        key, iv = notice_ack["body"]["output"]["key"], notice_ack["body"]["output"]["iv"]
        assert fake.ws_subscriptions[approval] == {("H0STCNT0", "005930"), ("H0STCNI0", "testuser")}

        fake.set_price("005930", Decimal("70000"), volume=3)
        encrypted, tr_id, count, payload = (await _recv(ws)).split("|")
        assert (encrypted, tr_id, count) == ("0", "H0STCNT0", "001")
        trade = dict(zip(TRADE_COLUMNS, payload.split("^"), strict=True))
        assert (trade["MKSC_SHRN_ISCD"], trade["STCK_PRPR"], trade["CNTG_VOL"]) == (
            "005930",
            "70000",
            "3",
        )

        odno = (await client.order("TTTC0012U", "005930", 2, 69900)).json()["output"]["ODNO"]
        fake.set_price("005930", Decimal("69900"))
        notices: list[dict[str, str]] = []
        while len(notices) < 2:
            frame = await _recv(ws)
            if frame.startswith("1|"):
                _, tr, _, cipher = frame.split("|")
                assert tr == "H0STCNI0"
                fields = aes_decrypt(key, iv, cipher).split("^")
                notices.append(dict(zip(NOTICE_COLUMNS, fields, strict=True)))
        accept, fill = notices
        assert (accept["CNTG_YN"], accept["ACPT_YN"], accept["ODER_NO"]) == ("1", "1", odno)
        assert fill["CNTG_YN"] == "2"
        assert (fill["ODER_NO"], fill["CNTG_QTY"], fill["CNTG_UNPR"]) == (odno, "2", "69900")
        assert (fill["SELN_BYOV_CLS"], fill["STCK_SHRN_ISCD"], fill["RFUS_YN"]) == (
            "02",
            "005930",
            "0",
        )

        fake.reject_next_order("FAKE", "거부", at_venue=True)
        refused = (await client.order("TTTC0012U", "005930", 1, 69000)).json()
        assert refused["rt_cd"] == "0"
        _, _, _, cipher = (await _recv(ws)).split("|")
        notice = dict(zip(NOTICE_COLUMNS, aes_decrypt(key, iv, cipher).split("^"), strict=True))
        assert (notice["ODER_NO"], notice["RFUS_YN"]) == (refused["output"]["ODNO"], "1")
        rows = (await client.daily_ccld("TTTC0081R")).json()["output1"]
        assert (rows[0]["rjct_qty"], rows[0]["rmn_qty"]) == ("1", "0")


async def test_ws_errors_limits_and_second_connection(fake: FakeKis, client: Client) -> None:
    approval = await client.approval_key()
    async with connect(f"{fake.ws_url}/tryitout") as ws:
        await ws.send(_subscribe("bogus", "H0STCNT0", "005930"))
        assert json.loads(await _recv(ws))["body"]["msg_cd"] == "OPSP0011"
        for n in range(40):
            await ws.send(_subscribe(approval, "H0STCNT0", f"{n:06d}"))
            assert json.loads(await _recv(ws))["body"]["rt_cd"] == "0"
        await ws.send(_subscribe(approval, "H0STCNT0", "999999"))
        over = json.loads(await _recv(ws))["body"]
        assert (over["rt_cd"], over["msg_cd"], over["msg1"]) == (
            "1",
            "OPSP0008",
            "MAX SUBSCRIBE OVER",
        )

        async with connect(f"{fake.ws_url}/tryitout") as second:
            await second.send(_subscribe(approval, "H0STCNT0", "005930"))
            assert json.loads(await _recv(second))["body"]["msg_cd"] == "OPSP8996"
            with pytest.raises(ConnectionClosed):
                await _recv(second)

        await ws.send(_subscribe(approval, "H0STCNT0", "000000", tr_type="2"))
        assert json.loads(await _recv(ws))["body"]["msg_cd"] == "OPSP0001"
        assert len(fake.ws_subscriptions[approval]) == 39

        fake.drop_websockets()
        with pytest.raises(ConnectionClosed):
            await _recv(ws)
    assert fake.ws_subscriptions == {}

    async with connect(f"{fake.ws_url}/tryitout") as again:  # reconnect + resubscribe works
        await again.send(_subscribe(approval, "H0STCNT0", "005930"))
        assert json.loads(await _recv(again))["body"]["msg_cd"] == "OPSP0000"


async def test_ws_pingpong_is_sent_and_echo_counted() -> None:
    fake = await _started(ping_interval=0.05)
    try:
        async with connect(f"{fake.ws_url}/tryitout") as ws:
            ping = await _recv(ws)
            header = json.loads(ping)["header"]
            assert header["tr_id"] == "PINGPONG" and len(header["datetime"]) == 14
            await ws.send(ping)
            for _ in range(50):
                if fake.pongs:
                    break
                await asyncio.sleep(0.01)
            assert fake.pongs == 1
    finally:
        await fake.stop()
