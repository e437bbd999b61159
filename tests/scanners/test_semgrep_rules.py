"""auditdash's own semgrep rules: each fires on the mistake it names and not on the safe way.

Every example is a file of its own, scanned in one real semgrep run with the exact command
line the runner uses; a rule without both kinds of example fails the suite.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import orjson
import pytest
import yaml

from scanners.base import RawFinding
from scanners.formats import semgrep as semgrep_format
from scanners.runners.tools import semgrep_command, semgrep_environment, semgrep_rule_files

PREFIX = "auditdash.python."

# rule name -> (code it must flag, code it must leave alone)
EXAMPLES: dict[str, tuple[list[str], list[str]]] = {
    "subprocess-shell-true": (
        [
            "import subprocess\nsubprocess.call(cmd, shell=True)\n",
            "import subprocess\nsubprocess.run(f'ls {d}', shell=True, check=True)\n",
            "import asyncio\nasync def f(c):\n    await asyncio.create_subprocess_shell(c)\n",
        ],
        [
            "import subprocess\nsubprocess.run(['ls', d], check=True)\n",
            "import subprocess\nsubprocess.call(cmd, shell=False)\n",
        ],
    ),
    "os-system-dynamic": (
        [
            "import os\nos.system('rm -rf ' + path)\n",
            "import os\nos.popen(f'cat {name}').read()\n",
        ],
        ["import os\nos.system('clear')\n", "import os\nos.popen('uptime').read()\n"],
    ),
    "eval-exec-dynamic": (
        ["value = eval(request.args['q'])\n", "exec(compile(source, 'x', 'exec'))\n"],
        ["value = eval('1 + 1')\n", "import ast\nvalue = ast.literal_eval(text)\n"],
    ),
    "unsafe-deserialisation": (
        [
            "import pickle\nobj = pickle.loads(blob)\n",
            "import pickle\nwith open(p, 'rb') as f:\n    obj = pickle.load(f)\n",
            "import marshal\ncode = marshal.loads(data)\n",
            "import shelve\ndb = shelve.open(path)\n",
        ],
        ["import pickle\nblob = pickle.dumps(obj)\n", "import json\nobj = json.loads(blob)\n"],
    ),
    "yaml-unsafe-load": (
        [
            "import yaml\ndata = yaml.load(text)\n",
            "import yaml\ndata = yaml.load(text, Loader=yaml.Loader)\n",
            "import yaml\ndata = yaml.unsafe_load(text)\n",
        ],
        [
            "import yaml\ndata = yaml.safe_load(text)\n",
            "import yaml\ndata = yaml.load(text, Loader=yaml.SafeLoader)\n",
            "import yaml\nfrom yaml import CSafeLoader\ndata = yaml.load(text, Loader=CSafeLoader)\n",
        ],
    ),
    "weak-hash": (
        [
            "import hashlib\ntoken = hashlib.md5(secret).hexdigest()\n",
            "import hashlib\nsig = hashlib.sha1(body).digest()\n",
            "import hashlib\nh = hashlib.new('md5', data)\n",
        ],
        [
            "import hashlib\nh = hashlib.sha256(data).hexdigest()\n",
            "import hashlib\netag = hashlib.md5(body, usedforsecurity=False).hexdigest()\n",
        ],
    ),
    "requests-verify-false": (
        [
            "import requests\nr = requests.get(url, verify=False, timeout=5)\n",
            "import requests\ns = requests.Session()\ns.verify = False\n",
        ],
        [
            "import requests\nr = requests.get(url, timeout=5)\n",
            "import requests\nr = requests.get(url, verify='/etc/ca.pem', timeout=5)\n",
        ],
    ),
    "requests-without-timeout": (
        [
            "import requests\nr = requests.get(url)\n",
            "import requests\nr = requests.post(url, json=body, headers=h)\n",
        ],
        [
            "import requests\nr = requests.get(url, timeout=(3, 10))\n",
            "import requests\nr = requests.post(url, json=body, **options)\n",
        ],
    ),
    "sql-built-from-strings": (
        [
            "cur.execute(f\"SELECT * FROM users WHERE name = '{name}'\")\n",
            'cur.execute("DELETE FROM t WHERE id = %s" % user_id)\n',
            "cur.execute(\"SELECT * FROM t WHERE a = '{}'\".format(a))\n",
            "cur.execute('SELECT * FROM t WHERE a = ' + a)\n",
            "q = f'UPDATE t SET a = {a}'\nconn.execute(q)\n",
            "User.objects.raw(f'SELECT * FROM auth_user WHERE name = {name}')\n",
        ],
        [
            "cur.execute('SELECT * FROM users WHERE name = %s', (name,))\n",
            "cur.execute('SELECT 1')\n",
            "q = 'SELECT * FROM t WHERE a = ?'\nconn.execute(q, (a,))\n",
        ],
    ),
    "hardcoded-secret": (
        [
            "PASSWORD = 'hunter2-for-real'\n",
            "api_key = 'sk_live_51HqLyjWDarjtT1zdp7dc'\n",
            "conn = connect(host='db', password='s3cr3t!')\n",
            "settings.SECRET_KEY = 'django-insecure-abc123'\n",
            "def login(user, password='letmein'):\n    return user\n",
            "CONFIG = {'auth_token': 'ghp_aaaaaaaaaaaaaaaaaaaa'}\n",
        ],
        [
            "import os\nPASSWORD = os.environ['DB_PASSWORD']\n",
            "password = ''\n",
            "TOKEN_URL = 'https://example.com/oauth/token'\n",
            "conn = connect(host='db', password=password)\n",
            "PASSWORD = 'changeme'\n",
        ],
    ),
    "bare-except": (
        ["try:\n    work()\nexcept:\n    pass\n"],
        [
            "try:\n    work()\nexcept Exception:\n    log()\n",
            "try:\n    work()\nexcept (ValueError, KeyError):\n    pass\n",
        ],
    ),
    "flask-debug-true": (
        [
            "from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0', debug=True)\n",
            "from flask import Flask\napp = Flask(__name__)\napp.debug = True\n",
        ],
        [
            "from flask import Flask\napp = Flask(__name__)\napp.run(debug=False)\n",
            "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
            "app.run(debug=os.environ.get('DEBUG') == '1')\n",
        ],
    ),
    "tempfile-mktemp": (
        ["import tempfile\nname = tempfile.mktemp(suffix='.txt')\n"],
        [
            "import tempfile\nfd, name = tempfile.mkstemp(suffix='.txt')\n",
            "import tempfile\nwith tempfile.NamedTemporaryFile() as f:\n    f.write(b'x')\n",
        ],
    ),
    "jwt-decode-without-verification": (
        [
            "import jwt\nclaims = jwt.decode(token, options={'verify_signature': False})\n",
            "import jwt\nclaims = jwt.decode(token, key, algorithms=['HS256', 'none'])\n",
            "import jwt\nclaims = jwt.decode(token, verify=False)\n",
            "import jwt\nopts = {'verify_signature': False}\nclaims = jwt.decode(token, options=opts)\n",
        ],
        [
            "import jwt\nclaims = jwt.decode(token, key, algorithms=['HS256'])\n",
            "import jwt\nclaims = jwt.decode(token, key, algorithms=['RS256'], "
            "options={'require': ['exp']})\n",
        ],
    ),
    "tls-unverified-context": (
        [
            "import ssl\nctx = ssl._create_unverified_context()\n",
            "import ssl\nctx = ssl.create_default_context()\nctx.check_hostname = False\n"
            "ctx.verify_mode = ssl.CERT_NONE\n",
        ],
        [
            "import ssl\nctx = ssl.create_default_context()\n",
            "import ssl\nctx = ssl.create_default_context()\nctx.verify_mode = ssl.CERT_REQUIRED\n",
        ],
    ),
    "tarfile-extract-without-filter": (
        [
            "import tarfile\nwith tarfile.open(path) as tar:\n    tar.extractall(target)\n",
            "import tarfile\narchive = tarfile.open(path)\narchive.extract(member, target)\n",
        ],
        [
            "import tarfile\nwith tarfile.open(path) as tar:\n"
            "    tar.extractall(target, filter='data')\n",
            "import zipfile\nwith zipfile.ZipFile(path) as z:\n    z.extractall(target)\n",
        ],
    ),
    "django-mark-safe-dynamic": (
        [
            "from django.utils.safestring import mark_safe\nhtml = mark_safe(f'<b>{name}</b>')\n",
            "from django.utils.safestring import mark_safe\nhtml = mark_safe(comment.body)\n",
        ],
        [
            "from django.utils.safestring import mark_safe\nhtml = mark_safe('<br>')\n",
            "from django.utils.html import format_html\nhtml = format_html('<b>{}</b>', name)\n",
        ],
    ),
}


def shipped_rules() -> dict[str, dict]:
    rules: dict[str, dict] = {}
    for path in semgrep_rule_files():
        for rule in yaml.safe_load(path.read_text())["rules"]:
            rules[rule["id"]] = rule
    return rules


def example_name(rule: str, kind: str, index: int) -> str:
    return f"{kind}__{rule.replace('-', '_')}__{index}.py"


@pytest.fixture(scope="module")
def flagged(tmp_path_factory) -> dict[str, set[str]]:
    """File name -> the rule names semgrep reported in it, from one real run over every
    example; also checks that our semgrep parser reads the output."""
    folder = tmp_path_factory.mktemp("examples")
    scratch = tmp_path_factory.mktemp("semgrep-scratch")
    for rule, (positives, negatives) in EXAMPLES.items():
        for kind, snippets in (("bad", positives), ("good", negatives)):
            for index, code in enumerate(snippets):
                (folder / example_name(rule, kind, index)).write_text(code)
    # The runner writes this too: semgrep's default ignore list would skip tests/.
    (folder / ".semgrepignore").write_text("")
    result = subprocess.run(
        semgrep_command("."),
        cwd=folder,
        capture_output=True,
        timeout=300,
        env={**os.environ, **semgrep_environment(scratch)},
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    report = orjson.loads(result.stdout)
    assert report["errors"] == [], report["errors"]
    found: dict[str, set[str]] = {}
    for item in semgrep_format.parse(io.BytesIO(result.stdout), source="semgrep.json"):
        if isinstance(item, RawFinding):
            found.setdefault(Path(item.path).name, set()).add(item.rule_id)
    return found


def test_every_shipped_rule_has_examples_both_ways() -> None:
    names = {rule_id.removeprefix(PREFIX) for rule_id in shipped_rules()}
    assert names == set(EXAMPLES)
    for rule, (positives, negatives) in EXAMPLES.items():
        assert positives and negatives, rule


def test_rule_ids_are_namespaced_and_carry_a_cwe() -> None:
    rules = shipped_rules()
    assert 10 <= len(rules) <= 20
    for rule_id, rule in rules.items():
        assert rule_id.startswith(PREFIX), rule_id
        assert rule["metadata"]["cwe"].startswith("CWE-"), rule_id
        assert rule["languages"] == ["python"], rule_id


@pytest.mark.parametrize(
    ("rule", "index"),
    [(rule, i) for rule, (positives, _) in EXAMPLES.items() for i in range(len(positives))],
)
def test_rule_flags_the_vulnerable_example(flagged, rule: str, index: int) -> None:
    name = example_name(rule, "bad", index)
    assert PREFIX + rule in flagged.get(name, set()), f"{rule} missed:\n{EXAMPLES[rule][0][index]}"


@pytest.mark.parametrize(
    ("rule", "index"),
    [(rule, i) for rule, (_, negatives) in EXAMPLES.items() for i in range(len(negatives))],
)
def test_rule_leaves_the_safe_example_alone(flagged, rule: str, index: int) -> None:
    name = example_name(rule, "good", index)
    assert PREFIX + rule not in flagged.get(name, set()), (
        f"{rule} fired on safe code:\n{EXAMPLES[rule][1][index]}"
    )


def test_findings_keep_the_rule_id_as_written_and_its_cwe(tmp_path) -> None:
    (tmp_path / "app.py").write_text("import yaml\ndata = yaml.load(text)\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = subprocess.run(
        semgrep_command("app.py"),
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
        env={**os.environ, **semgrep_environment(scratch)},
    )
    findings = [
        f
        for f in semgrep_format.parse(io.BytesIO(result.stdout), source="semgrep.json")
        if isinstance(f, RawFinding)
    ]
    assert [(f.rule_id, f.cwe, f.severity, f.start_line) for f in findings] == [
        ("auditdash.python.yaml-unsafe-load", "CWE-502", "high", 2)
    ]
