#!/usr/bin/perl
# compare.pl for a foreign event loop: runs one benchmark script for the project build and for
# the reference AnyEvent 7.17, both with LOOP loaded first and PERL_ANYEVENT_MODEL=MODEL, in
# turns, ROUNDS times; prints the median of each key=value figure and the ratio ours/reference.
# usage: compare-loop.pl MODEL LOOP BUILD_DIR ROUNDS SCRIPT ARGS...
#   e.g. compare-loop.pl Glib Glib . 3 ../shared/bench/watchers.pl 20000
use strict;
use warnings;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
my ($model, $loop, $build, $rounds, $script, @args) = @ARGV;
die "usage: $0 MODEL LOOP BUILD_DIR ROUNDS SCRIPT ARGS...\n" unless $script;
$build = abs_path($build);
my $prefix = $ENV{AE_REF_PREFIX} || "$ENV{HOME}/.cache/anyevent-ref";
my $shared = "@{[dirname(abs_path($0))]}/../../shared/bench";
$shared = dirname(abs_path($script)) unless -f "$shared/ref-setup.sh";
my $ref_inc = `bash $shared/ref-setup.sh $prefix`; chomp $ref_inc;
my %cmd = (
    ours => "env PERL_ANYEVENT_MODEL=$model perl -I$build/blib/lib -I$build/blib/arch -M$loop $script @args 2>&1 >/dev/null",
    ref  => "env PERL_ANYEVENT_MODEL=$model LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu perl $ref_inc -M$loop $script @args 2>&1 >/dev/null",
);
my %fig;
for (1 .. $rounds) {
    for my $who (qw(ref ours)) {
        my $out = `$cmd{$who}`;
        my $line = (grep /model=/, split /\n/, $out)[-1] // "";
        warn "$who printed no figures:\n$out" unless $line;
        warn "$who ran model $1, not $model\n" if $line =~ /model=(\S+)/ && $1 !~ /::\Q$model\E$/;
        push @{ $fig{$who}{$1} }, $2 while $line =~ /(\w+)=([\d.]+)(?=\s|$)/g;
    }
}
sub median { my @s = sort { $a <=> $b } @_; @s ? $s[$#s / 2] : undef }
print "model $model (loop $loop): $script @args\n";
for my $k (sort keys %{ $fig{ref} || {} }) {
    my $r = median(@{ $fig{ref}{$k} }); my $o = median(@{ $fig{ours}{$k} || [] });
    next unless defined $r && defined $o && $r > 0;
    printf "%-14s reference=%-10s ours=%-10s ours/reference=%.3f\n", $k, $r, $o, $o / $r;
}
