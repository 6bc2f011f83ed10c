#!/usr/bin/perl
# AnyEvent::IO throughput with 100 requests in flight, and how late a timer fires meanwhile:
# aio_load of FILES files of 64 KiB, aio_stat of PATHS paths (the files are made once, in
# $TMPDIR/ae-aio-bench, and read once before measuring so that they are in the page cache).
# A 2 ms timer is re-armed all the time; its lateness is the time it fired minus the deadline it
# was given (loop time + 2 ms): the largest, the 99th percentile (median over the repetitions),
# and the share of ticks later than 5 ms. Each workload is repeated for at least a second (and 5
# times); the rate is the median of the repetitions.
#
#   perl bench/aio.pl [FILES [PATHS]]                       one run, figures on stderr
#   perl ../shared/bench/compare.pl . 3 bench/aio.pl        ours vs AnyEvent 7.17 + EV + IO::AIO
#   perl bench/aio.pl --backends ROUNDS [FILES [PATHS]]     our build: Rust pool vs IO::AIO backend
#   perl bench/aio.pl --baseline                            the timer alone (this machine's noise)
#
# The backend is AnyEvent::IO's choice, or PERL_ANYEVENT_IO_MODEL's. For IOAIO, AnyEvent::AIO is
# provided here when it is not installed (IO::AIO's result descriptor watched by an io watcher).
use strict;
use warnings;
no warnings 'once';
use Time::HiRes ();

if (@ARGV && $ARGV[0] eq '--baseline') {
    # the 2 ms timer alone for 3 seconds: how late it is on this machine without any file I/O
    require AnyEvent;
    my @late;
    my ($tick, $arm);
    $arm = sub {
        my $due = AE::now() + 0.002;
        $tick = AE::timer(0.002, 0, sub { push @late, Time::HiRes::time() - $due; $arm->() });
    };
    $arm->();
    my $cv = AE::cv();
    my $end = AE::timer(3, 0, sub { $cv->send });
    $cv->recv;
    my @s = sort { $a <=> $b } @late;
    printf STDERR "model=%s baseline_late_max_ms=%.2f baseline_late_p99_ms=%.2f ticks=%d late_over_5ms_pct=%.2f\n",
        $AnyEvent::MODEL, $s[-1] * 1000, $s[int($#s * 0.99)] * 1000, scalar @s, 100 * (grep $_ > 0.005, @s) / @s;
    exit;
}

if (@ARGV && $ARGV[0] eq '--backends') {
    shift;
    my $rounds = shift || 3;
    backends($rounds, @ARGV);
    exit;
}

my $files = shift || 1000;
my $paths = shift || 10000;
my $inflight = 100;
my $dir = ($ENV{TMPDIR} || '/tmp') . "/ae-aio-bench";

sub prepare {
    my $data = join '', map { chr(($_ * 7) % 256) } 1 .. 65536;
    for my $sub (qw(load stat)) { mkdir "$dir"; mkdir "$dir/$sub" }
    for my $i (1 .. $files) {
        my $f = "$dir/load/$i";
        next if -s $f && -s _ == 65536;
        open(my $fh, '>', $f) or die "$f: $!";
        binmode $fh;
        print $fh $data;
        close $fh or die "$f: $!";
    }
    for my $i (1 .. $paths) {
        my $f = "$dir/stat/$i";
        next if -e $f;
        open(my $fh, '>', $f) or die "$f: $!";
    }
    # into the page cache
    for my $i (1 .. $files) { open(my $fh, '<', "$dir/load/$i") or die $!; local $/; my $x = <$fh> }
    for my $i (1 .. $paths) { stat "$dir/stat/$i" }
}

# AnyEvent 7.17 (the reference) uses IO::AIO when it can load it and AnyEvent::AIO; ours only
# when told to (PERL_ANYEVENT_IO_MODEL=IOAIO).
sub need_aio_glue {
    require AnyEvent;
    my $ours = defined &AnyEvent::Impl::Rust::run;
    return if $ours && ($ENV{PERL_ANYEVENT_IO_MODEL} // '') !~ /IOAIO/;
    return unless eval { require IO::AIO; 1 };
    return if eval { require AnyEvent::AIO; 1 };
    no warnings 'once';
    $AnyEvent::AIO::WATCHER = AnyEvent->io(fh => IO::AIO::poll_fileno(), poll => 'r', cb => \&IO::AIO::poll_cb);
    $INC{'AnyEvent/AIO.pm'} = __FILE__;
}

# Runs $n requests, $inflight at a time, with the late timer; returns requests/s and the
# lateness figures (ms).
sub run_requests {
    my ($n, $start_one) = @_;
    my @late;
    my $tick;
    my $arm;
    $arm = sub {
        my $due = AE::now() + 0.002;
        $tick = AE::timer(0.002, 0, sub { push @late, Time::HiRes::time() - $due; $arm->() });
    };
    my $cv = AE::cv();
    my ($issued, $done) = (0, 0);
    my $next;
    $next = sub {
        return if $issued >= $n;
        my $i = $issued++;
        $start_one->($i, sub {
            $done++;
            $next->();
            $cv->send if $done == $n;
        });
    };
    AE::now_update();
    my $t0 = Time::HiRes::time();
    $arm->();
    $next->() for 1 .. $inflight;
    $cv->recv;
    my $secs = Time::HiRes::time() - $t0;
    undef $tick;
    undef $arm;
    my @s = sort { $a <=> $b } @late;
    my $max = @s ? $s[-1] : 0;
    my $p99 = @s ? $s[int($#s * 0.99)] : 0;
    return ($n / $secs, $max * 1000, $p99 * 1000, scalar @s, scalar grep $_ > 0.005, @s);
}

# run_requests again and again for at least a second (and 5 times): the median rate, the
# largest lateness, the median p99 lateness, all the ticks.
sub repeated {
    my ($n, $start_one) = @_;
    my (@rate, @p99, $max, $ticks, $over);
    my $t0 = Time::HiRes::time();
    while (@rate < 5 || Time::HiRes::time() - $t0 < 1) {
        my ($rate, $m, $p, $t, $o) = run_requests($n, $start_one);
        push @rate, $rate;
        push @p99, $p;
        $max = $m if !defined $max || $m > $max;
        $ticks += $t;
        $over += $o;
    }
    my $median = sub { my @s = sort { $a <=> $b } @_; $s[$#s / 2] };
    return ($median->(@rate), $max, $median->(@p99), $ticks, $over);
}

sub measure {
    prepare();
    need_aio_glue();
    require AnyEvent;
    require AnyEvent::IO;
    AnyEvent::IO->import;
    my $bytes = 0;
    my $load = sub {
        my ($i, $done) = @_;
        AnyEvent::IO::aio_load("$dir/load/" . ($i % $files + 1), sub { die "load: $!" unless @_; $bytes += length $_[0]; $done->() });
    };
    my $stat = sub {
        my ($i, $done) = @_;
        AnyEvent::IO::aio_stat("$dir/stat/" . ($i % $paths + 1), sub { die "stat: $!" unless @_; $done->() });
    };
    run_requests($files, $load);    # warm up (threads, caches)
    run_requests($paths, $stat);
    my ($load_s, $load_max, $load_p99, $load_ticks, $load_over) = repeated($files, $load);
    my ($stat_s, $stat_max, $stat_p99, $stat_ticks, $stat_over) = repeated($paths, $stat);
    (my $io = $AnyEvent::IO::MODEL) =~ s/.*:://;
    printf STDERR "model=%s io=%s load_files_s=%.0f load_late_max_ms=%.2f load_late_p99_ms=%.2f stat_paths_s=%.0f stat_late_max_ms=%.2f stat_late_p99_ms=%.2f ticks=%d late_over_5ms_pct=%.2f\n",
        $AnyEvent::MODEL, $io, $load_s, $load_max, $load_p99, $stat_s, $stat_max, $stat_p99, $load_ticks + $stat_ticks,
        100 * ($load_over + $stat_over) / (($load_ticks + $stat_ticks) || 1);
}

# Our build with each backend, alternating, ROUNDS times: medians and the ratio Rust/IOAIO.
sub backends {
    my ($rounds, @args) = @_;
    require FindBin;
    my %fig;
    for (1 .. $rounds) {
        for my $model (qw(IOAIO Rust)) {
            local $ENV{PERL_ANYEVENT_IO_MODEL} = $model;
            my $out = `$^X -Mblib $FindBin::Bin/aio.pl @args 2>&1 >/dev/null`;
            my ($line) = grep /model=/, split /\n/, $out;
            die "no figures from $model:\n$out" unless $line;
            push @{ $fig{$model}{$1} }, $2 while $line =~ /(\w+)=([\d.]+)(?=\s|$)/g;
        }
    }
    my $median = sub { my @s = sort { $a <=> $b } @_; $s[$#s / 2] };
    for my $k (sort keys %{ $fig{Rust} }) {
        my ($r, $o) = ($median->(@{ $fig{IOAIO}{$k} }), $median->(@{ $fig{Rust}{$k} }));
        printf "%-18s IOAIO=%-10s Rust=%-10s Rust/IOAIO=%s\n", $k, $r, $o, $r > 0 ? sprintf('%.3f', $o / $r) : '-';
    }
}

measure();
