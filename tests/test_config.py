"""Settings: every variable documented, and each one named by the error a bad value gives."""

from __future__ import annotations

import pytest

from app.config import PROJECT_ROOT, SettingError, Settings, env_name, read_settings


def test_every_setting_is_documented_in_the_env_example():
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    missing = [env_name(field) for field in Settings.model_fields if f"# {env_name(field)}=" not in example]
    assert missing == []


@pytest.mark.parametrize("variable, value", [
    ("NEWSQA_TOP_K", "abc"), ("NEWSQA_LLM_TIMEOUT", "0"), ("NEWSQA_RETRIEVAL", "magic"),
    ("SLACK_BOT_TOKEN", "xoxp-user"), ("SLACK_APP_TOKEN", "xapp- 1"), ("SLACK_API_URL", "slack.com/api"),
    ("NEWSQA_TODAY", "yesterday"), ("NEWSQA_TODAY", "2025-02-30"), ("NEWSQA_TODAY", "9" * 5000),
    ("NEWSQA_HNSW_EF_SEARCH", "0"), ("NEWSQA_HNSW_EF_SEARCH", "-5"), ("NEWSQA_HNSW_EF_SEARCH", "9" * 40),
    ("NEWSQA_HNSW_EF_SEARCH", "wide"),
])
def test_a_bad_value_is_one_line_naming_its_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingError) as caught:
        read_settings(_env_file=None)
    message = str(caught.value)
    assert message.count("\n") == 0 and variable in message


def test_slack_modes_name_what_they_still_need():
    settings = read_settings(_env_file=None, slack_bot_token="xoxb-1")
    with pytest.raises(SettingError, match="SLACK_SIGNING_SECRET is not set"):
        settings.require_slack(socket=False)
    with pytest.raises(SettingError, match="SLACK_APP_TOKEN is not set"):
        settings.require_slack(socket=True)
    read_settings(_env_file=None, slack_bot_token="xoxb-1", slack_signing_secret="s").require_slack(socket=False)
