"""What the reports page says about a filter it cannot use: in both of the hall's languages."""

from __future__ import annotations

from tests.web.staff_login import log_in


def test_an_unknown_report_filter_is_explained_in_both_languages(app):
    supervisor = app.test_client()
    log_in(supervisor, "supervisor")

    explained = {"service=ZZ": "没有代码为", "counter=999": "没有这个窗口", "clerk=nobody": "没有这名经办人"}
    for query, zh in explained.items():
        answer = supervisor.get(f"/supervisor/reports?{query}")
        assert answer.status_code == 422 and zh in answer.get_data(as_text=True)
