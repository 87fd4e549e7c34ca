"""What can go wrong with a build, each error saying what failed and what to do about it."""

from __future__ import annotations


class BuildSizeError(RuntimeError):
    """A build could not be measured; the message is safe to show in Slack and logs."""


class BuildNotFound(BuildSizeError):
    pass


class EmptyBuild(BuildSizeError):
    pass


class UnreadableFiles(BuildSizeError):
    """Some files of a build could not be read; ``problems`` holds ``(path, reason)`` for each."""

    def __init__(self, where: str, problems: list[tuple[str, str]]):
        self.problems = problems
        shown = "; ".join(f"{path}: {reason}" for path, reason in problems[:5])
        more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        super().__init__(
            f"{len(problems)} file(s) of {where} could not be read ({shown}{more}); "
            "fix or remove them and measure the build again"
        )


class BuildInfoInvalid(BuildSizeError):
    pass
