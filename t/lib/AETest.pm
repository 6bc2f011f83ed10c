package AETest;

# Shared helpers for the test suite: peer programs, temporary files, watchdogs.

use strict;
use warnings;
use Test::More ();
use File::Temp ();
use Exporter 'import';

# Our modules must print no warning that AnyEvent 7.17 would not print: every warning whose
# location is in our lib/ is shown and fails the test run (a test that expects one sets its own
# local $SIG{__WARN__}).
my @LIB_WARNINGS;
$SIG{__WARN__} = sub {
    my ($msg) = @_;
    push @LIB_WARNINGS, $msg if $msg =~ m{ at \S*\blib/(?:AnyEvent|AE)\b\S* line \d+};
    print STDERR $msg;
};
END {
    if (@LIB_WARNINGS) {
        Test::More::diag("warnings from lib/:\n", @LIB_WARNINGS);
        Test::More::ok(0, scalar(@LIB_WARNINGS) . " warning(s) printed from lib/");
    }
}

our @EXPORT_OK = qw(need_program need_module watchdog tempdir write_file recv_within run_for sockets wait_until_blocked);

# Returns the path of a peer program (dnsmasq, nginx, openssl ...). When it is missing the test
# is skipped, unless AE_TEST_PEERS=required (as CI sets it), where a missing peer fails.
sub need_program {
    my ($name) = @_;
    for my $dir (split(/:/, $ENV{PATH} // ''), qw(/usr/sbin /sbin /usr/bin)) {
        return "$dir/$name" if -x "$dir/$name";
    }
    if (($ENV{AE_TEST_PEERS} // '') eq 'required') {
        Test::More::BAIL_OUT("peer program '$name' is required (AE_TEST_PEERS=required) but not installed");
    }
    Test::More::plan(skip_all => "peer program '$name' not installed");
}

# Loads an event loop module (or any module) the test needs; missing, it skips the test, or
# fails it under AE_TEST_PEERS=required (CI installs every loop).
sub need_module {
    my ($module) = @_;
    return 1 if eval "require $module; 1";
    (my $err = $@) =~ s/\n.*//s;
    if (($ENV{AE_TEST_PEERS} // '') eq 'required') {
        Test::More::BAIL_OUT("module $module is required (AE_TEST_PEERS=required) but cannot be loaded: $err");
    }
    Test::More::plan(skip_all => "module $module not installed");
}

# Kills the test with a clear message if it hangs (a lost event must fail, not stall CI).
sub watchdog {
    my ($seconds) = @_;
    $SIG{ALRM} = sub {
        require Carp;
        print STDERR map { "# $_\n" } "watchdog: the running subtest was: " . Test::More->builder->name,
            split /\n/, Carp::longmess('blocked');
        Test::More::BAIL_OUT("watchdog: test did not finish within $seconds s");
    };
    alarm $seconds;
}

sub tempdir { File::Temp::tempdir(CLEANUP => 1) }

# Writes $text to $path; with $mtime, sets its access and modification times to that.
sub write_file {
    my ($path, $text, $mtime) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh or die "$path: $!";
    utime $mtime, $mtime, $path or die "utime $path: $!" if defined $mtime;
}

# Runs the loop until $cv is sent; a lost event fails the test after $secs instead of hanging.
sub recv_within {
    my ($cv, $secs, $what) = @_;
    my $t = AE::timer($secs, 0, sub { $cv->croak("timed out waiting for $what") });
    return $cv->recv;
}

# Runs the loop for $secs (to observe that something does NOT happen).
sub run_for {
    my ($secs) = @_;
    my $cv = AE::cv();
    my $t = AE::timer($secs, 0, sub { $cv->send });
    $cv->recv;
}

# A connected pair of AF_UNIX stream sockets.
sub sockets {
    require Socket;
    socketpair(my $x, my $y, Socket::AF_UNIX(), Socket::SOCK_STREAM(), Socket::PF_UNSPEC()) or die "socketpair: $!";
    return ($x, $y);
}

# Waits (in a child) until process $pid sleeps in epoll_wait (or another poll), so that the
# event we cause next has to wake it. Kernels that hide wchan show "0": then the process state
# (sleeping) has to do.
sub wait_until_blocked {
    my ($pid) = @_;
    for (1 .. 2000) {
        open(my $fh, '<', "/proc/$pid/wchan") or return;
        my $wchan = <$fh> // '';
        return if $wchan =~ /poll|select/;
        return if $wchan eq '0' && `cat /proc/$pid/stat` =~ /^\d+ \(.*?\) S /;
        select undef, undef, undef, 0.001;
    }
}

1;
