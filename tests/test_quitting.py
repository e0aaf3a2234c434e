"""Quitting cleanly: Ctrl+C and SIGTERM to a real `run_game.py` (in the game loop and during
the start-up build), closing the window through the real loop, and game/quitting.py itself."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pygame
import pytest

from bench.frames import copy_project
from game import quitting
from game.app import Game
from game.cli import PROJECT_ROOT
from game.world import snapshot
from tests.conftest import edit, headless, press


class Running:
    """`run_game.py --headless` in a session of its own, as a terminal runs it: a signal to
    its process group is what Ctrl+C sends."""

    def __init__(self, project: Path, *args: str) -> None:
        env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
        cmd = [sys.executable, str(PROJECT_ROOT / "run_game.py"), "--headless", "--project", str(project), *args]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
        )
        self.lines: list[str] = []
        self._said = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._said:
                self.lines.append(line)
                self._said.notify_all()

    def wait_for(self, text: str, timeout: float = 300) -> None:
        with self._said:
            if not self._said.wait_for(lambda: any(text in line for line in self.lines), timeout):
                self.proc.kill()
                raise AssertionError(f"{text!r} never logged:\n{self.stderr}")

    def signal(self, sig: int, group: bool = True) -> int:
        """Sends `sig` (to the whole group, as a terminal does, or to the game only) and
        returns the exit status."""
        (os.killpg if group else os.kill)(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=120)
        finally:
            self.proc.kill()

    @property
    def stderr(self) -> str:
        with self._said:
            return "".join(self.lines)


def saved_entities(path: Path) -> int:
    ws = snapshot.read_state(path)
    return sum(len(v) for k, v in ws.arrays.items() if k.endswith(".entities"))


@pytest.mark.parametrize(("sig", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_a_signal_in_the_game_loop_quits_cleanly_and_saves_the_world(
    built_project: Path, tmp_path: Path, sig: int, group: bool
) -> None:
    saved = tmp_path / "exit.npz"
    game = Running(built_project, "--entities", "700", "--save-world", str(saved))
    game.wait_for("game running: 700 entities")
    status = game.signal(sig, group)
    out = game.stderr
    assert status == 128 + sig, out  # 130 for Ctrl+C, 143 for SIGTERM
    assert "Traceback" not in out
    assert f"{quitting.describe(sig)}: quitting" in out
    exited = re.search(r"exit after \d+ frames, (\d+) entities", out)
    assert exited is not None, out
    assert saved_entities(saved) == int(exited[1]) > 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_start_up_build_cancels_it_and_keeps_the_old_save(
    built_project: Path, tmp_path: Path, sig: int
) -> None:
    """An edit of components.zig makes every system build again (seconds of compiling); the
    signal lands at its start. A world file from before is not overwritten by a world that
    was never made."""
    project = copy_project(tmp_path / "project", built_project)
    with (project / "ecs_systems" / "components.zig").open("a") as f:
        f.write("\n// edited: every system builds again\n")
    saved = tmp_path / "exit.npz"
    saved.write_bytes(b"the world saved yesterday")
    game = Running(project, "--entities", "700", "--save-world", str(saved))
    game.wait_for("reload started (startup)")
    status = game.signal(sig)
    out = game.stderr
    assert status == 128 + sig, out
    assert "Traceback" not in out
    assert "reload finished" not in out and "exit: cancelling the build in progress" in out
    assert "quit before the world was made" in out
    assert saved.read_bytes() == b"the world saved yesterday"


def test_a_second_ctrl_c_quits_at_once_without_a_traceback(tmp_path: Path) -> None:
    """The first Ctrl+C asks; a second one while the program does not listen (here: a script
    that never looks) raises KeyboardInterrupt, which run_game.py turns into status 130."""
    script = tmp_path / "stuck.py"
    script.write_text(
        "import os, signal, sys, time\n"
        f"sys.path.insert(0, {str(PROJECT_ROOT)!r})\n"
        "from game import quitting\n"
        "with quitting.listening():\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(0.2)\n"
        "    print('asked', quitting.received() == signal.SIGINT, flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(5)\n"
        "    print('not interrupted')\n"
    )
    runner = tmp_path / "runner.py"  # run_game.py's own wrapper around main(), on the script
    runner.write_text(
        (PROJECT_ROOT / "run_game.py")
        .read_text()
        .replace("from game.cli import main", f"import runpy\n        main = lambda: runpy.run_path({str(script)!r})")
    )
    out = subprocess.run([sys.executable, str(runner)], capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
    assert out.returncode == 130, out.stderr
    assert out.stdout == "asked True\n"
    assert "Traceback" not in out.stderr and "interrupted" in out.stderr


def test_closing_the_window_quits_through_the_loop_and_saves(built_project: Path, tmp_path: Path) -> None:
    saved = tmp_path / "closed.npz"
    game = Game(headless(built_project, save_world=saved, entities=900))
    try:
        assert game.start()
        for _ in range(5):
            game.frame()
        step = game.world.step
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        game.run()  # one more frame: the event is handled, no step runs, the loop ends
        assert not game.running and game.world.step == step
        count = game.world.count
    finally:
        game.close()
    assert count == 900
    assert saved_entities(saved) == count
    assert snapshot.read_state(saved).step == step


def test_quitting_while_the_build_writes_the_canarys_world_copy_raises_nothing_on_its_thread(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exit stops the canary while a build thread is still writing the world copy into
    the canary's scratch folder (CI caught it removing the folder under the writer): the
    write completes, the build ends quietly, and the folder goes once the thread has ended."""
    game = Game(headless(project))
    errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    closer = threading.Thread(target=game.close)
    try:
        assert game.start()
        for _ in range(5):
            game.frame()
        canary = game.reloader.canary
        assert canary is not None
        scratch = canary._dir
        writing, go = threading.Event(), threading.Event()
        write = canary.world_file

        def held(image: object) -> Path:
            writing.set()
            go.wait(60)
            return write(image)  # type: ignore[arg-type]

        monkeypatch.setattr(canary, "world_file", held)
        edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 2;")
        press(game, pygame.K_F5)
        while not writing.wait(0.01):
            game.frame()
        closer.start()  # the exit, as the game loop calls it: it stops the canary, then waits
        while not canary._closed:
            closer.join(0.01)
        assert scratch.is_dir()  # stopped, not yet removed: the writer is still at work
        go.set()
        closer.join(60)
        assert not closer.is_alive()
    finally:
        go.set()
        if not closer.is_alive() and closer.ident is None:
            game.close()
    assert errors == []
    assert not scratch.exists()


# --- game/quitting.py ---------------------------------------------------------------------------


def test_a_signal_is_recorded_and_sets_the_exit_status() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with quitting.listening():
        assert quitting.received() is None and quitting.exit_status(0) == 0
        signal.raise_signal(signal.SIGTERM)
        assert quitting.received() == signal.SIGTERM
        assert quitting.exit_status(0) == 143 and quitting.exit_status(2) == 143
        with pytest.raises(KeyboardInterrupt):  # a second one: quit at once
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) == before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with quitting.listening():  # each listening starts afresh
        assert quitting.received() is None


def test_a_signal_ignored_at_start_stays_ignored() -> None:
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with quitting.listening():
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_IGN, signal.SIG_DFL)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
