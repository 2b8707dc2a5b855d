"""The portals in Simplified Chinese: headings, labels, statuses, amounts and dates."""

import re

import pytest

from tests.portal.conftest import client_for, disbursed, h1, submitted, text

pytestmark = pytest.mark.django_db


def chinese(user):
    client = client_for(user)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/portal/"})
    return client


def test_the_supplier_s_pages_in_chinese(chain):
    request = disbursed(chain, "90000.00")
    client = chinese(chain.supplier_maker)
    home = text(client.get("/portal/"))
    assert "中小企业门户" in home and "您的融资" in home and "各融资项目可用额度" in home
    assert "90,000.00 CNY" in home  # grouped as banks write it
    assert h1(client.get("/portal/invoices/")) == "发票"
    assert h1(client.get("/portal/apply/")) == "申请融资"
    page = text(client.get(f"/portal/requests/{request.pk}/"))
    assert f"融资申请 {request.pk}" in page and "已放款" in page and "实收净额" in page
    assert "通过 · 发票已由买方确权" in page
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page)  # dates as Chinese readers write them


def test_the_bank_and_core_pages_in_chinese(chain):
    submitted(chain, [chain.invoice("100000.00")], "90000.00")
    bank = chinese(chain.bank_checker)
    assert h1(bank.get("/portal/queue/")) == "审批队列"
    assert h1(bank.get("/portal/portfolio/")) == "资产组合"
    assert "授信额度" in text(bank.get("/portal/programs/"))
    core = chinese(chain.core_checker)
    assert h1(core.get("/portal/payables/")) == "待确权应付账款"
    assert h1(core.get("/portal/network/")) == "链属企业融资"
    assert h1(core.get("/portal/participants/")) == "融资项目中的供应商"


def test_form_errors_are_in_chinese(chain):
    client = chinese(chain.supplier_maker)
    response = client.post("/portal/invoices/new/", {"number": "X-1", "amount": "abc"})
    body = text(response)
    assert "此项为必填项" in body or "这个字段是必填项" in body
    assert 'value="X-1"' in response.content.decode()
