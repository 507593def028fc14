"""Personnummer for tests, built independently of `iubledger.policies.personnummer`."""


def luhn(nine: str) -> int:
    """Luhn check digit over nine digits: every other digit from the left doubled, the
    digits of the products added."""
    doubled = "".join(str(int(d) * 2) if i % 2 == 0 else d for i, d in enumerate(nine))
    return (10 - sum(map(int, doubled)) % 10) % 10


def personnummer(yymmdd: str, serial: str = "123", sekel: str = "19", sep: str = "-") -> str:
    """A Luhn-valid personnummer of the birth date `yymmdd`."""
    return f"{sekel}{yymmdd}{sep}{serial}{luhn(yymmdd + serial)}"
