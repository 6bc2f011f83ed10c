# The log targets: log_to_warn, log_to_file, log_to_path, log_to_syslog (through Sys::Syslog to
# a unix datagram socket of the test's own).
use strict;
use lib "t/lib";
use warnings;
use Test::More;
use AETest qw(tempdir);
use AnyEvent;
use AnyEvent::Log;
use Socket qw(AF_UNIX SOCK_DGRAM PF_UNSPEC pack_sockaddr_un);

AETest::watchdog(60);

my $stamp = qr/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} [-+]\d{4}/;
my $dir = tempdir();

sub slurp { open my $fh, '<', $_[0] or return undef; local $/; scalar <$fh> }

subtest log_to_warn => sub {
    my @warned;
    local $SIG{__WARN__} = sub { push @warned, $_[0] };
    my $ctx = AnyEvent::Log::Ctx->new(log_to_warn => []);
    $ctx->title('W');
    $ctx->log(error => "to stderr\nline 2");
    is scalar @warned, 1, 'one warn per message';
    like $warned[0], qr/^$stamp error W: to stderr\n$stamp \+ line 2\n\z/, 'the formatted message, without location';
};

subtest log_to_file => sub {
    my $path = "$dir/file.log";
    my $ctx = AnyEvent::Log::Ctx->new(title => 'F', log_to_file => $path);
    $ctx->log(warn => 'one');
    $ctx->log(note => 'two');
    like slurp($path), qr/^$stamp warn  F: one\n$stamp note  F: two\n\z/, 'appended, unbuffered';
    rename $path, "$path.old" or die;
    $ctx->log(info => 'three');
    like slurp("$path.old"), qr/three\n\z/, 'the file stays open: a renamed file keeps receiving';
    ok !-e $path, 'and no new file is created';
    ok !eval { $ctx->log_to_file(undef); 1 }, 'an undefined path croaks';
    like $@, qr/^log_to_file: the path/;
};

subtest log_to_path => sub {
    my $path = "$dir/path.log";
    my $ctx = AnyEvent::Log::Ctx->new(title => 'P', log_to_path => $path);
    $ctx->log(warn => 'one');
    rename $path, "$path.old" or die;
    $ctx->log(warn => 'two');
    like slurp("$path.old"), qr/^$stamp warn  P: one\n\z/, 'the old file has the first message';
    like slurp($path), qr/^$stamp warn  P: two\n\z/, 'the path is opened again for each message';
};

subtest 'a log file that cannot be opened' => sub {
    AnyEvent::Log::reset();
    my @warned;
    local $SIG{__WARN__} = sub { push @warned, $_[0] };
    my $ctx = AnyEvent::Log::Ctx->new(title => 'X', log_to_file => "$dir/no/such/dir/x.log");
    $ctx->log(error => 'lost');
    $ctx->log(error => 'lost too');
    is scalar @warned, 1, 'reported once (through the default hierarchy, here warn)';
    like $warned[0] // '', qr/ error AnyEvent::Log: unable to open logfile '\Q$dir\E\/no\/such\/dir\/x\.log': No such file or directory\n/;
};

subtest log_to_syslog => sub {
    require Sys::Syslog;
    my $sock_path = "$dir/syslog.sock";
    socket(my $server, AF_UNIX, SOCK_DGRAM, PF_UNSPEC) or die "socket: $!";
    bind($server, pack_sockaddr_un($sock_path)) or die "bind: $!";
    Sys::Syslog::setlogsock({ type => 'unix', path => $sock_path });
    Sys::Syslog::openlog('aetest', 'ndelay', 'user');

    my $ctx = AnyEvent::Log::Ctx->new(title => 'S', log_to_syslog => 'local3');
    $ctx->log(error => "first\nsecond");
    $ctx->log(trace => 'tracing');
    $ctx->log(alert => 'alarm');

    my @got;
    my $cv = AE::cv;
    my $w = AE::io $server, 0, sub {
        sysread $server, my $buf, 4096;
        push @got, $buf;
        $cv->send if @got == 4;
    };
    AETest::recv_within($cv, 5, 'syslog datagrams');
    my @parsed = map { /^<(\d+)>.*?aetest(?:\[\d+\])?: (.*?)\n?\0?\z/s ? [$1 >> 3, $1 & 7, $2] : [$_] } @got;
    is_deeply \@parsed, [
        [19, 3, '(S) first'], [19, 3, '+ second'],    # local3 = 19, err = 3; one datagram per line
        [19, 7, '(S) tracing'],                        # trace is sent as debug (7)
        [19, 1, '(S) alarm'],                          # alert = 1
    ], 'facility, priority and text of each line';

    my $default = AnyEvent::Log::Ctx->new(title => 'D', log_to_syslog => []);
    $default->log(warn => 'user facility');
    $cv = AE::cv;
    @got = ();
    $w = AE::io $server, 0, sub { sysread $server, my $buf, 4096; push @got, $buf; $cv->send };
    AETest::recv_within($cv, 5, 'syslog datagram');
    like $got[0], qr/^<12>/, 'the default facility is user (1), warn is warning (4)';
    ok !eval { AnyEvent::Log::Ctx->new(log_to_syslog => 'nonsense'); 1 }, 'an unknown facility croaks';
    like $@, qr/^log_to_syslog: 'nonsense' is not a syslog facility/;
    Sys::Syslog::closelog();
};

done_testing;
