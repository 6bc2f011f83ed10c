#!/usr/bin/perl
# Like ../shared/bench/compare.pl, for several builds of this module at once: runs SCRIPT for
# the reference (AnyEvent 7.17 + EV, prefix made by ref-setup.sh) and for each BUILD_DIR (its
# blib), alternating, ROUNDS times; prints the median of each key=value figure the script prints
# on stderr for each, the ratio of each build to the reference and of each build to the first.
# usage: compare_builds.pl ROUNDS BUILD_DIR... -- SCRIPT ARGS...
#   e.g. perl bench/compare_builds.pl 5 /tmp/ring-build . -- bench/handshake.pl 3 rsa
use strict;
use warnings;
use Cwd qw(abs_path);
my $rounds = shift;
my @builds;
push @builds, abs_path(shift) while @ARGV && $ARGV[0] ne "--";
shift;
my ($script, @args) = @ARGV;
die "usage: $0 ROUNDS BUILD_DIR... -- SCRIPT ARGS...\n" unless $rounds && @builds && $script;
my $shared = $ENV{AE_SHARED_BENCH} || "/work/shared/bench";
my $prefix = $ENV{AE_REF_PREFIX} || "$ENV{HOME}/.cache/anyevent-ref";
my $ref_inc = `bash $shared/ref-setup.sh $prefix`; chomp $ref_inc;
my @who = ("reference", @builds);
my %cmd = (reference => "env PERL_ANYEVENT_MODEL=EV LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu perl $ref_inc $script @args 2>&1 >/dev/null");
$cmd{$_} = "perl -I$_/blib/lib -I$_/blib/arch $script @args 2>&1 >/dev/null" for @builds;
my %fig;
for (1 .. $rounds) {
    for my $who (@who) {
        my $out = `$cmd{$who}`;
        my $line = (grep /model=/, split /\n/, $out)[-1] // "";
        warn "$who printed no figures:\n$out" unless $line;
        push @{ $fig{$who}{$1} }, $2 while $line =~ /(\w+)=([\d.]+)(?=\s|$)/g;
    }
}
sub median { my @s = sort { $a <=> $b } @_; @s ? $s[$#s / 2] : undef }
printf "builds: %s\n", join " ", map { "[$_] $builds[$_]" } 0 .. $#builds;
for my $k (sort keys %{ $fig{reference} || {} }) {
    my $r = median(@{ $fig{reference}{$k} });
    my @m = map { median(@{ $fig{$_}{$k} || [] }) } @builds;
    next if grep !defined, $r, @m;
    printf "%-28s reference=%-9s %s\n", $k, $r, join "  ", map {
        sprintf "[%d]=%s (%s/ref%s)", $_, $m[$_], $r > 0 ? sprintf("%.3f", $m[$_] / $r) : "-",
            $_ && $m[0] > 0 ? sprintf(", %.3f/[0]", $m[$_] / $m[0]) : ""
    } 0 .. $#m;
}
