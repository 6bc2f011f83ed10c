package AETest::Perl;

# Runs a child perl with this build on @INC and a clean AnyEvent environment: for behaviour
# that depends on the environment at load time, or that ends the program (fatal log messages).

use strict;
use warnings;
use Exporter 'import';

our @EXPORT_OK = qw(run_perl block_signal_during);

# run_perl(\%env, $code, @perl_flags): runs `perl @flags -e $code` with only the AE_/
# PERL_ANYEVENT_ variables of %env set; returns (stdout, stderr, exit status as in $?).
sub run_perl {
    my ($env, $code, @flags) = @_;
    require File::Temp;
    local %ENV = %ENV;
    delete @ENV{grep /^(?:AE_|PERL_ANYEVENT_)/, keys %ENV};
    @ENV{keys %$env} = values %$env;
    my @inc = map { "-I$_" } grep { !ref } @INC;
    my ($out, $err) = map { File::Temp->new } 1 .. 2;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>&', $out or die;
        open STDERR, '>&', $err or die;
        open STDIN, '<', '/dev/null' or die;
        exec $^X, @inc, @flags, '-e', $code or die "exec: $!";
    }
    waitpid $pid, 0;
    my $status = $?;
    my @text = map { local $/; open my $fh, '<', $_->filename or die; scalar <$fh> } $out, $err;
    return (@text, $status);
}

# block_signal_during($function, $signal): wraps the named function (a loop's wait for one
# event, say) so that $signal is blocked while it runs and delivered when it returns. A signal
# that arrives meanwhile so gets the timing of one that arrives just before the loop blocks,
# whose Perl handler runs only when the wait ends (code for run_perl's child, which has t/lib).
sub block_signal_during {
    my ($function, $signal) = @_;
    require POSIX;
    no strict 'refs';
    my $orig = \&{$function};
    my $set = POSIX::SigSet->new(POSIX->can("SIG$signal")->());
    no warnings 'redefine';
    *{$function} = sub {
        my $old = POSIX::SigSet->new;
        POSIX::sigprocmask(POSIX::SIG_BLOCK(), $set, $old);
        my @r = eval { $orig->(@_) };
        my $e = $@;
        POSIX::sigprocmask(POSIX::SIG_SETMASK(), $old);
        die $e if $e;
        return @r;
    };
    return;
}

1;
