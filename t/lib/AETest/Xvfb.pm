package AETest::Xvfb;

# Starts an Xvfb for tests of GUI loops (Gtk3, Tk) and sets $ENV{DISPLAY}; Xvfb picks a free
# display itself and reports it when it is ready (-displayfd), so there is nothing to poll. It
# is stopped when the object goes away (or at exit).
#
#   my $x = AETest::Xvfb->start;

use strict;
use warnings;
use POSIX ();
use Fcntl ();
use AETest qw(need_program);

sub start {
    my ($class) = @_;
    my $xvfb = need_program('Xvfb');
    pipe my $r, my $w or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        fcntl $w, Fcntl::F_SETFD(), 0;    # keep it open across exec
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        POSIX::setsid();
        { exec $xvfb, '-displayfd', fileno($w), '-screen', '0', '640x480x24', '-nolisten', 'tcp'; }
        POSIX::_exit(127);
    }
    close $w;
    my $display = <$r>;
    die "AETest::Xvfb: Xvfb did not start\n" unless defined $display && $display =~ /^(\d+)/;
    $ENV{DISPLAY} = ":$1";
    return bless { pid => $pid, r => $r }, $class;
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill TERM => $pid;
    waitpid $pid, 0;
}

sub DESTROY { $_[0]->stop }

1;
