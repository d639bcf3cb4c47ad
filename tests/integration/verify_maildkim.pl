#!/usr/bin/perl
# SPDX-License-Identifier: BSD-2-Clause
# verify_maildkim.pl - verify every DKIM signature of a message with Mail::DKIM
#
# Usage: verify_maildkim.pl DNS_PORT [MESSAGE_FILE]   (the message is read from stdin
# when no file is given, exactly as delivered, CRLF line ends)
#
# DNS queries go to the test server on 127.0.0.1:DNS_PORT only.  Prints one JSON
# object per signature, in header order (topmost first):
#   {"index":0,"d":"example.com","s":"s1","a":"rsa-sha256","result":"pass","detail":"pass"}
# and a last line {"overall":"pass"|"fail"|"none"|...}.  Exit status 0 unless the
# script itself fails.  Debian's Mail::DKIM (1.20230212) cannot verify ed25519-sha256:
# such signatures come out as result "invalid" with an "unsupported algorithm" detail.
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Net::DNS::Resolver;
use JSON::PP;

my $port = shift @ARGV or die "usage: $0 DNS_PORT [FILE]\n";
my $res = Net::DNS::Resolver->new(
    nameservers => ['127.0.0.1'],
    port        => $port,
    recurse     => 1,
    tcp_timeout => 5,
    udp_timeout => 5,
    retry       => 2,
);
Mail::DKIM::DNS::resolver($res);

my $fh = \*STDIN;
if (@ARGV) {
    open($fh, '<', $ARGV[0]) or die "$ARGV[0]: $!\n";
}
binmode($fh);
my $dkim = Mail::DKIM::Verifier->new();
{
    local $/ = \65536;
    while (my $chunk = <$fh>) {
        $dkim->PRINT($chunk);
    }
}
$dkim->CLOSE();

my $json = JSON::PP->new->canonical(1);
my $i = 0;
foreach my $sig ($dkim->signatures) {
    print $json->encode({
        index  => $i++,
        d      => scalar($sig->domain) // '',
        s      => scalar($sig->selector) // '',
        a      => scalar($sig->algorithm) // '',
        result => scalar($sig->result) // '',
        detail => scalar($sig->result_detail) // '',
    }), "\n";
}
print $json->encode({ overall => scalar($dkim->result) // '' }), "\n";
exit 0;
