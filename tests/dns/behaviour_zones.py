"""The zones of the DNS behaviour table, answered alike by every resolver."""

from __future__ import annotations

SOA_MINIMUM = 120
TTL = 300
_MANY_MX = "".join(f"many        MX    {i} mx{i}\n" for i in range(11))
_LONG_CHAIN = "".join(f"long{i}       CNAME long{i + 1}\n" for i in range(9))

EXAMPLE_ZONE = f"""\
$ORIGIN example.test.
$TTL {TTL}
@           SOA   ns.example.test. hostmaster.example.test. 1 3600 600 86400 {SOA_MINIMUM}
@           NS    ns.example.test.
ns          A     127.0.0.1
one         TXT   "v=DKIM1; p=abc"
multi       TXT   "v=DKIM1; " "k=rsa; " "p=abc"
two         TXT   "second"
two         TXT   "first"
a-only      A     192.0.2.1
both        A     192.0.2.2
both        AAAA  2001:db8::2
v6-only     AAAA  2001:db8::3
mail        MX    10 both
mail        MX    20 a-only
mail        MX    5 mx.keys.test.
mx-alias    CNAME mail
null-mx     MX    0 .
{_MANY_MX}x.ent       TXT   "below an empty non-terminal"
alias       CNAME one
alias2      CNAME alias
cross       CNAME sel._domainkey.keys.test.
cross-nx    CNAME nothing.keys.test.
dangling    CNAME missing.example.test.
to-a-only   CNAME a-only
loop1       CNAME loop2
loop2       CNAME loop1
self        CNAME self
{_LONG_CHAIN}long9       CNAME one
*.wild      TXT   "wildcard"
"""

KEYS_ZONE = f"""\
$ORIGIN keys.test.
$TTL {TTL}
@                SOA   ns.keys.test. hostmaster.keys.test. 1 3600 600 86400 {SOA_MINIMUM}
@                NS    ns.keys.test.
ns               A     127.0.0.1
sel._domainkey   TXT   "v=DKIM1; k=ed25519; p=key"
"""

ZONES = {"example.test": EXAMPLE_ZONE, "keys.test": KEYS_ZONE}
