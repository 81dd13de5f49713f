"""
Standard RFC 1035 master files, parsed by dnspython into a :class:`StoreBuilder`.

Zone files are the common currency of oxdkim: the library renders the records a brand
and its domains need, a real server in the tests serves them, and
:class:`~oxdkim.resolvers.ZoneFileResolver` answers from the same files.
"""

from __future__ import annotations

import re

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.SOA
import dns.rdtypes.txtbase
import dns.tokenizer
import dns.zone
import dns.zonefile

from ..exceptions import ConfigurationError
from .store import StoreBuilder

_DIRECTIVES = ("$ORIGIN", "$TTL", "$GENERATE")
_FIRST_ORIGIN = re.compile(r"^\$ORIGIN[ \t]+(\S+)", re.MULTILINE | re.IGNORECASE)


def _text_name(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if name != dns.name.root else "."


def _add_rdataset(
    builder: StoreBuilder,
    owner: dns.name.Name,
    rdataset: dns.rdataset.Rdataset,
    origin: dns.name.Name = dns.name.root,
) -> None:
    if rdataset.rdclass != dns.rdataclass.IN:
        return
    rdtype = dns.rdatatype.to_text(rdataset.rdtype)
    values: list[tuple[bytes, ...] | str] = []
    for rdata in rdataset:
        if isinstance(rdata, dns.rdtypes.txtbase.TXTBase):
            values.append(tuple(rdata.strings))
        elif isinstance(rdata, dns.rdtypes.ANY.CNAME.CNAME):
            values.append(_text_name(rdata.target.derelativize(origin)))
        elif isinstance(rdata, dns.rdtypes.ANY.MX.MX):
            values.append(f"{rdata.preference} {_text_name(rdata.exchange.derelativize(origin))}")
        else:
            values.append(rdata.to_text())
    if rdtype == "SOA":
        soa = rdataset[0]
        assert isinstance(soa, dns.rdtypes.ANY.SOA.SOA)
        # RFC 2308 §5: the negative answer's TTL is min(SOA TTL, SOA MINIMUM).
        builder.add_apex(_text_name(owner), min(rdataset.ttl, soa.minimum))
    builder.add(_text_name(owner), rdtype, rdataset.ttl, values)


def add_zone(builder: StoreBuilder, zone: dns.zone.Zone) -> None:
    """Add every IN record of a zone dnspython parsed (``dns.zone.from_text``/``from_file``)."""
    origin = zone.origin if zone.origin is not None else dns.name.root
    for name, rdataset in zone.iterate_rdatasets():
        _add_rdataset(builder, name.derelativize(origin), rdataset, origin)


def split_long_strings(text: str) -> str:
    """
    Rewrite quoted strings longer than 255 bytes as several strings of at most 255.

    RFC 1035 §3.3 limits a character-string to 255 bytes and dnspython (like Knot and
    BIND) refuses longer ones, but DKIM keys are often written as one long string, as
    in some published test vectors. Splitting does not change a DKIM, SPF or DMARC
    value, whose strings are joined without separators. Comments, escapes (``\\"``,
    ``\\DDD``) and line numbers are kept; an unterminated string is left for the
    parser to report.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == ";":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(text[i:end])
            i = end
        elif char == '"':
            units: list[str] = []
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    width = 4 if text[j + 1 : j + 2].isdigit() else 2
                    units.append(text[j : j + width])
                else:
                    units.append(text[j])
                j += len(units[-1])
            if j >= n:  # unterminated: leave it to the parser
                out.append(text[i:])
                break
            chunks, current, size = [], "", 0
            for unit in units:
                length = 1 if unit.startswith("\\") else len(unit.encode("utf-8"))
                if size + length > 255:
                    chunks.append(current)
                    current, size = "", 0
                current += unit
                size += length
            chunks.append(current)
            out.append(" ".join(f'"{chunk}"' for chunk in chunks))
            i = j + 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def parse_zone_text(
    text: str,
    *,
    origin: str = ".",
    default_ttl: int | None = None,
    filename: str = "<string>",
    split_long: bool = False,
) -> dns.zone.Zone:
    """
    Parse one master file (RFC 1035 §5) into a dnspython zone with absolute names.

    The zone's origin is the file's first ``$ORIGIN``, else ``origin``. No SOA or NS is
    required (test and vector files often have neither); an SOA must sit at the origin.
    Records without a TTL take ``default_ttl`` when no ``$TTL`` or earlier TTL applies.
    ``$INCLUDE`` is refused: a zone file must not make oxdkim read other files.
    ``split_long`` accepts strings over 255 bytes (see :func:`split_long_strings`).

    Raises:
        ConfigurationError: The text is not a valid master file (the message says where).
    """
    if split_long:
        text = split_long_strings(text)
    try:
        zone_origin = dns.name.from_text(origin, dns.name.root)
        first = _FIRST_ORIGIN.search(text)
        if first is not None:
            zone_origin = dns.name.from_text(first.group(1), zone_origin)
        # dns.zone.from_text() with a default TTL: the same three steps it takes.
        zone = dns.zone.Zone(zone_origin, dns.rdataclass.IN, relativize=False)
        with zone.writer(True) as txn:
            reader = dns.zonefile.Reader(
                dns.tokenizer.Tokenizer(text, filename),
                dns.rdataclass.IN,
                txn,
                allow_include=False,
                allow_directives=_DIRECTIVES,
                default_ttl=default_ttl,
            )
            reader.read()
    except (dns.exception.DNSException, ValueError) as exc:
        hint = ""
        if "string too long" in str(exc):
            hint = " (strings are at most 255 bytes; split_long_strings=True splits them)"
        raise ConfigurationError(f"{filename}: not a valid zone file: {exc}{hint}") from exc
    return zone


def add_zone_text(
    builder: StoreBuilder,
    text: str,
    *,
    origin: str = ".",
    default_ttl: int | None = None,
    filename: str = "<string>",
    split_long: bool = False,
) -> None:
    """Parse ``text`` (see :func:`parse_zone_text`) and add its records to ``builder``."""
    zone = parse_zone_text(
        text, origin=origin, default_ttl=default_ttl, filename=filename, split_long=split_long
    )
    add_zone(builder, zone)
