#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# contrib/quickstart.sh - install txmilter and see it sign a message, in one command.
#
# Usage (as root, on Debian 12, from a txmilter source checkout):
#   contrib/quickstart.sh [--domain example.com] [--selector txm1] [--ed25519]
#                         [--no-deps] [--no-build]
#   contrib/quickstart.sh --stop          stop the demo (and txmilter)
#
# What it does (safe to run again: existing keys and configuration are kept):
#   1. installs the build dependencies and the demo's tools with apt-get
#   2. builds txmilter and installs it (make install; prefix /usr/local, configuration
#      in /etc/txmilter)
#   3. creates the system user txmilter, generates an RSA-2048 key (and with --ed25519
#      an Ed25519 key) under /etc/txmilter/keys (mode 0600) unless present, and writes
#      /etc/txmilter/txmilter.conf unless one (other than make install's sample) is there
#   4. starts txmilter in the background on unix:/run/txmilter/txmilter.sock
#   5. starts a private demo Postfix on 127.0.0.1:2525 that uses txmilter and relays all
#      mail to a local capture server (127.0.0.1:2526; nothing leaves the machine),
#      sends one message through it and shows the delivered DKIM-Signature with
#      dkimpy's verdict
#   6. prints the lines to add to your real Postfix main.cf, and how to stop the demo

set -euo pipefail

DOMAIN=example.com
SELECTOR=txm1
ED25519=0
DEPS=1
BUILD=1
STOP=0
while [ $# -gt 0 ]; do
    case "$1" in
    --domain) DOMAIN=$2; shift ;;
    --selector) SELECTOR=$2; shift ;;
    --ed25519) ED25519=1 ;;
    --no-deps) DEPS=0 ;;
    --no-build) BUILD=0 ;;
    --stop) STOP=1 ;;
    -h|--help) sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "quickstart: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

[ "$(id -u)" -eq 0 ] || { echo "quickstart: run as root" >&2; exit 2; }
cd "$(dirname "$0")/.."
TOP=$(pwd)
PY=/usr/bin/python3
DEMO="$PY $TOP/contrib/quickstart-demo.py"
ETC=/etc/txmilter
CONF=$ETC/txmilter.conf
KEYDIR=$ETC/keys
RUNDIR=/run/txmilter
SOCKET=unix:$RUNDIR/txmilter.sock
PIDFILE=$RUNDIR/txmilter.pid
STATE=/var/lib/txmilter-demo
TXMILTER=/usr/local/sbin/txmilter

say() { printf '\n==> %s\n' "$*"; }

stop_txmilter() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
}

if [ "$STOP" = 1 ]; then
    $DEMO stop --state "$STATE" || true
    stop_txmilter
    echo "txmilter stopped"
    exit 0
fi

# ---------------------------------------------------------------------------
say "1. dependencies"
if [ "$DEPS" = 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -q
    apt-get install -y -q --no-install-recommends \
        autoconf automake libtool pkg-config make gcc \
        libmilter-dev libopendkim-dev libspf2-dev libopendmarc-dev libhiredis-dev \
        libunbound-dev libevent-dev nettle-dev libssl-dev libcmocka-dev libsqlite3-dev \
        libmicrohttpd-dev libidn2-dev publicsuffix \
        postfix openssl python3 python3-dkim python3-nacl python3-dnspython adduser
else
    echo "skipped (--no-deps)"
fi

# ---------------------------------------------------------------------------
say "2. build and install txmilter"
if [ "$BUILD" = 1 ]; then
    [ -x "$TOP/configure" ] || autoreconf -fi
    mkdir -p "$TOP/build-quickstart"
    (
        cd "$TOP/build-quickstart"
        [ -f Makefile ] || "$TOP/configure" -q --prefix=/usr/local --sysconfdir=/etc \
            --localstatedir=/var
        make -s -j"${JOBS:-$(nproc)}"
        make -s install
    )
else
    echo "skipped (--no-build)"
fi
[ -x "$TXMILTER" ] || { echo "quickstart: $TXMILTER is missing" >&2; exit 1; }
"$TXMILTER" -V | head -1

# ---------------------------------------------------------------------------
say "3. user, keys and configuration"
if ! getent passwd txmilter >/dev/null; then
    adduser --system --group --no-create-home --home /nonexistent txmilter >/dev/null
    echo "created system user txmilter"
fi
# Postfix's daemons reach the socket through the txmilter group (UMask 007).
if ! id -nG postfix | tr ' ' '\n' | grep -qx txmilter; then
    adduser postfix txmilter >/dev/null
    echo "added postfix to group txmilter (restart a running system Postfix to apply it)"
fi
install -d -m 0755 "$ETC"
install -d -m 0750 -o txmilter -g txmilter /var/lib/txmilter
ED=()
[ "$ED25519" = 1 ] && ED=(--ed25519)
$DEMO keys --keydir "$KEYDIR" --domain "$DOMAIN" --selector "$SELECTOR" --owner txmilter "${ED[@]}"
RSAKEY=$KEYDIR/$SELECTOR.$DOMAIN.rsa.pem
EDKEY=$KEYDIR/$SELECTOR-ed.$DOMAIN.ed25519.pem

# make install puts the commented sample there when none exists; that one
# names keys the demo does not have, so it is replaced, anything else kept.
if [ -e "$CONF" ] && ! cmp -s "$CONF" "$TOP/contrib/txmilter.conf"; then
    echo "keeping the existing $CONF"
else
    {
        cat <<EOF
# /etc/txmilter/txmilter.conf - written by contrib/quickstart.sh; see txmilter.conf(5)
#
# The socket belongs to txmilter:txmilter with mode 0770 (UMask 007); the postfix
# user is in group txmilter (adduser postfix txmilter), so Postfix can connect.
Socket              $SOCKET
UserID              txmilter
UMask               007
PidFile             $PIDFILE
Syslog              yes

# Mail from these clients (and SMTP-authenticated mail) is outbound and gets signed.
InternalHosts       127.0.0.1, ::1

Canonicalization    relaxed/relaxed
EOF
        if [ "$ED25519" = 1 ]; then
            cat <<EOF

# RSA and Ed25519 side by side (many receivers do not verify Ed25519 yet).
KeyTable            $ETC/KeyTable
SigningTable        refile:$ETC/SigningTable
MultipleSignatures  yes
EOF
        else
            cat <<EOF

# One domain, one key.  For several domains or RSA + Ed25519 use KeyTable and
# SigningTable (OpenDKIM formats).
Domain              $DOMAIN
Selector            $SELECTOR
KeyFile             $RSAKEY
EOF
        fi
    } > "$CONF.tmp"
    if [ "$ED25519" = 1 ]; then
        printf 'rsa-%s %s:%s:%s\ned-%s %s:%s:%s\n' \
            "$DOMAIN" "$DOMAIN" "$SELECTOR" "$RSAKEY" \
            "$DOMAIN" "$DOMAIN" "$SELECTOR-ed" "$EDKEY" > "$ETC/KeyTable"
        printf '*@%s rsa-%s\n*@%s ed-%s\n' "$DOMAIN" "$DOMAIN" "$DOMAIN" "$DOMAIN" \
            > "$ETC/SigningTable"
    fi
    mv "$CONF.tmp" "$CONF"
    echo "wrote $CONF"
fi
if ! "$TXMILTER" -n -x "$CONF"; then
    echo "quickstart: $CONF does not pass 'txmilter -n'" >&2
    exit 1
fi

# ---------------------------------------------------------------------------
say "4. start txmilter"
stop_txmilter
install -d -m 0750 -o txmilter -g txmilter "$RUNDIR"
"$TXMILTER" -x "$CONF"
for _ in $(seq 1 100); do [ -S "$RUNDIR/txmilter.sock" ] && break; sleep 0.1; done
if [ ! -S "$RUNDIR/txmilter.sock" ]; then
    echo "quickstart: txmilter did not open $SOCKET (see: journalctl -t txmilter)" >&2
    exit 1
fi
echo "txmilter running (pid $(cat "$PIDFILE" 2>/dev/null || echo '?')), socket $SOCKET"

# ---------------------------------------------------------------------------
say "5. demo: private Postfix on 127.0.0.1:2525 -> txmilter -> capture on 127.0.0.1:2526"
$DEMO start --state "$STATE" --milter "$SOCKET" --port 2525 --sink-port 2526
rc=0
$DEMO send --state "$STATE" --keydir "$KEYDIR" --domain "$DOMAIN" --selector "$SELECTOR" \
    "${ED[@]}" || rc=$?

# ---------------------------------------------------------------------------
say "6. next steps"
cat <<EOF
Publish the DNS record(s) printed in step 3, then add to your Postfix main.cf:

    smtpd_milters = unix:$RUNDIR/txmilter.sock
    non_smtpd_milters = \$smtpd_milters
    milter_default_action = tempfail
    milter_protocol = 6

and run 'systemctl restart postfix' (a restart, so that Postfix picks up its new
membership of group txmilter).  Debian's master.cf runs smtpd and cleanup chrooted in
/var/spool/postfix, where /run is out of reach: put the socket in the queue directory
instead (Socket unix:/var/spool/postfix/txmilter/txmilter.sock in $CONF and
smtpd_milters = unix:txmilter/txmilter.sock), or use TCP (Socket inet:8891@127.0.0.1,
smtpd_milters = inet:127.0.0.1:8891).  contrib/postfix-main.cf.snippet explains each line;
contrib/txmilter.service runs txmilter under systemd.

Try the demo yourself (delivered mail lands in $STATE/capture/mail, Postfix logs
in $STATE/postfix/maillog):

    printf 'From: you@$DOMAIN\nTo: x@y.example\nSubject: hi\n\nhello\n' |
        sendmail -C $STATE/postfix/etc -f you@$DOMAIN x@y.example

Stop the demo and txmilter:  $TOP/contrib/quickstart.sh --stop
EOF
exit $rc
