"""Who may use the web chat, and what for: logins, the address it listens on, read-only
deployments and the collections it serves. Plain functions; Gradio does the login itself."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.errors import ActionRefused, CollectionNotAllowed, ConfigError, InvalidCollectionName
from index.store import check_name
from rag.settings import Settings

Login = Callable[[str, str], bool]


@dataclass(frozen=True)
class Access:
    """What a deployment allows: ``collections`` (empty: any) and whether files may be
    uploaded and collections changed."""

    collections: tuple[str, ...] = ()
    uploads: bool = True

    @staticmethod
    def from_settings(settings: Settings, uploads: bool | None = None) -> Access:
        names = [n.strip() for n in (settings.ui_collections or "").split(",") if n.strip()]
        try:
            checked = tuple(dict.fromkeys(check_name(n) for n in names))
        except InvalidCollectionName as exc:
            raise ConfigError(f"RAG_UI_COLLECTIONS: {exc}") from exc
        return Access(checked, settings.ui_uploads if uploads is None else uploads)

    def allows(self, name: str) -> bool:
        return not self.collections or name in self.collections

    def check(self, name: str) -> str:
        """``name``, or CollectionNotAllowed when this deployment does not serve it."""
        if not self.allows(name):
            raise CollectionNotAllowed(name, list(self.collections))
        return name

    def check_changes(self) -> None:
        if not self.uploads:
            raise ActionRefused("this chat is read-only: uploads and changes to collections are "
                                "turned off (rag ui --no-uploads)")

    def default(self, name: str) -> str:
        """The collection shown first: ``name`` when served, else the first one served."""
        return name if self.allows(name) else self.collections[0]


def read_users(text: str, where: str) -> dict[str, str]:
    """``USER:PASSWORD`` lines (blank lines and ``#`` comments ignored) as a dict."""
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user.strip() or not password:
            raise ConfigError(f"{where}, line {number}: expected USER:PASSWORD")
        users[user.strip()] = password
    return users


def logins(auth: str | None, users_file: Path | None) -> Login | None:
    """The check Gradio's login page calls, from ``USER:PASSWORD`` and a file of such lines;
    None when neither is given."""
    users: dict[str, str] = {}
    if auth:
        users |= read_users(auth, "--auth / RAG_UI_AUTH")
    if users_file is not None:
        try:
            text = Path(users_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the users file {users_file} "
                              f"({exc.strerror or exc}): pass a readable file") from exc
        users |= read_users(text, str(users_file))
        if not users:
            raise ConfigError(f"the users file {users_file} holds no USER:PASSWORD line")
    if not users:
        return None

    def check(user: str, password: str) -> bool:
        expected = users.get(user)
        given, wanted = password.encode(), (expected or "\x00").encode()
        return hmac.compare_digest(given, wanted) and expected is not None

    return check


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, login: Login | None, public: bool) -> None:
    """Refuse to listen beyond this machine without a login, unless ``public`` says so."""
    if login is None and not public and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host} without a login: anyone who can reach it could read "
            "and change the documents. Pass --auth USER:PASSWORD (or RAG_UI_AUTH, or "
            "--users-file FILE), or --public if it is meant to be open")
