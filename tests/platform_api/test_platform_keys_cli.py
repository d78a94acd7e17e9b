"""``vpp keys create|list|revoke``: the secret shown once, stored only hashed."""

from __future__ import annotations

from platform_helpers import PARK, PARK_FILE
from sqlalchemy import select

import vpp.cli
from vpp.platform.keys import authenticate
from vpp.platform.models import ApiKey
from vpp.platform.parks import register_park
from vpp.platform.service import Platform


def test_keys_create_list_revoke(db_url, capsys):
    db = ["--db", db_url]
    platform = Platform.open(db_url)
    register_park(platform.sessions, PARK_FILE)
    cli = ["keys", "create", "--role", "site", "--park", PARK, "--site", "logistics", *db]
    assert vpp.cli.main(cli) == 0
    text = capsys.readouterr().out.splitlines()[-1]
    key_id, secret = text.split("_")[1], text.split("_", 2)[2]
    who = authenticate(platform.sessions, text)
    assert (who.key_id, who.role) == (key_id, "site")
    with platform.sessions() as session:
        row = session.scalars(select(ApiKey)).one()
    assert secret not in (row.hash_hex + row.salt_hex)  # only a salted hash is stored
    assert vpp.cli.main(["keys", "list", *db]) == 0
    listed = capsys.readouterr().out
    assert key_id in listed and f"{PARK}/logistics" in listed and secret not in listed
    assert vpp.cli.main(["keys", "revoke", key_id, *db]) == 0
    assert authenticate(platform.sessions, text) is None
    assert vpp.cli.main(["keys", "revoke", "ffffffffffff", *db]) == 2
    bad = ["keys", "create", "--role", "site", "--park", PARK, "--site", "nowhere", *db]
    assert vpp.cli.main(bad) == 2
    assert "no site 'nowhere'" in capsys.readouterr().err
    platform.close()
