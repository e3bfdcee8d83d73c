"""The site's commands: `serve`, `admin-password`."""

from __future__ import annotations

import click

from archive.clikit import Context, pass_ctx


@click.command(name="admin-password")
@click.password_option(prompt="管理密码", confirmation_prompt="再次输入")
def admin_password(password: str) -> None:
    """Print the hash of a staff password, for `admin_password_hash` in the config file."""
    from werkzeug.security import generate_password_hash

    if len(password) < 10:
        raise click.UsageError("密码至少需要 10 个字符。")
    click.echo(generate_password_hash(password))


@click.command()
@click.option("--host", help="Address to listen on.")
@click.option("--port", type=int, help="Port to listen on.")
@pass_ctx
def serve(obj: Context, host: str | None, port: int | None) -> None:
    """Serve the search site."""
    from search_web.server import run_server

    settings = obj.settings.replace(**{k: v for k, v in (("host", host), ("port", port)) if v is not None})
    run_server(settings)


def register(root: click.Group) -> None:
    """Add this package's commands to the `xxgk` command."""
    for command in (serve, admin_password):
        root.add_command(command)
