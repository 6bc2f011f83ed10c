# PERL_ANYEVENT_LOG (and AE_LOG): the specification grammar, applied when AnyEvent is loaded;
# malformed parts give one warning and the rest applies.
use strict;
use lib "t/lib";
use warnings;
use Test::More;
use AETest qw(tempdir);
use AETest::Perl qw(run_perl);

AETest::watchdog(120);

my $stamp = qr/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} [-+]\d{4}/;
my $dir = tempdir();
sub slurp { open my $fh, '<', $_[0] or return ''; local $/; scalar <$fh> }

# Logs one message per level 2..9 from package main and from Some::Module; returns what reached
# stderr as "package:level" words.
my $emit = q{
    use AnyEvent;
    AE::log $_ => "m" for 2 .. 9;
    package Some::Module; AE::log $_ => "s" for 2 .. 9;
};
sub levels_seen {
    my ($spec, %more) = @_;
    my ($out, $err, $status) = run_perl({ defined $spec ? (PERL_ANYEVENT_LOG => $spec) : (), %more }, $emit);
    my @seen = map { /^$stamp (\w+) +(\S+): ([ms])$/ ? "$2:$1" : "?$_" } split /\n/, $err;
    return join ' ', @seen;
}

is levels_seen('filter=warn'), 'main:alert main:crit main:error main:warn Some::Module:alert Some::Module:crit Some::Module:error Some::Module:warn',
    'filter=warn: the global level';
is levels_seen('filter=only,debug'), 'main:debug Some::Module:debug', 'only,level: that level alone';
is levels_seen('filter=except,trace,debug,info,note,warn,error,crit'), 'main:alert Some::Module:alert', 'except';
is levels_seen('filter=only,level,alert'), 'main:alert Some::Module:alert', 'level after only: back to "this and higher"';
is levels_seen('filter=off'), '', 'off';
is levels_seen('filter=0'), '', '0';
is levels_seen('filter=2'), 'main:alert Some::Module:alert', 'a number';
is levels_seen('filter=error Some::Module=+log,only,trace'),
    'main:alert main:crit main:error Some::Module:trace', 'whitespace separates; +log bypasses the filter';
is levels_seen("\n  filter=error\n  Some::Module=+,only,trace,+%t\n  %t=stderr\n"),
    'main:alert main:crit main:error Some::Module:trace', 'multi-line; a lone + drops the parent; %name contexts';
is levels_seen('collect=nolog:log=nolog'), '', 'nolog on $LOG';
is levels_seen('filter=warn', AE_LOG => 'filter=debug'), levels_seen('filter=warn'), 'PERL_ANYEVENT_LOG wins over AE_LOG';
is levels_seen(undef, AE_LOG => 'filter=alert'), 'main:alert Some::Module:alert', 'AE_LOG alone';
is levels_seen('Some::Module::=+log,only,note:filter=off'), 'Some::Module:note', 'a trailing :: forces a package name';

subtest 'cap' => sub {
    my (undef, $err) = run_perl({ PERL_ANYEVENT_LOG => 'log=cap=error' }, q{ use AnyEvent; AE::log alert => "x"; AE::log crit => "y" });
    like $err, qr/^$stamp error main: x\n$stamp error main: y\n\z/;
};

subtest 'file and path targets, with escapes' => sub {
    my $file = "$dir/a, b:c";
    (my $escaped = $file) =~ s/([,: \\])/\\$1/g;
    my (undef, $err) = run_perl({ PERL_ANYEVENT_LOG => "filter=warn:log=file=$escaped" }, q{ use AnyEvent; AE::log warn => "to file" });
    is $err, '', 'nothing on stderr';
    like slurp($file), qr/^$stamp warn  main: to file\n\z/, 'log=file= with \\, and \\: escaped';

    (undef, $err) = run_perl({ PERL_ANYEVENT_LOG => "log=+%f:%f=path=$dir/path.log" }, q{ use AnyEvent; AE::log error => "both" });
    like $err, qr/ error main: both\n\z/, 'in addition to stderr';
    like slurp("$dir/path.log"), qr/ error main: both\n\z/, 'path= through an anonymous context';
};

subtest 'syslog target' => sub {
    require Socket;
    my $sock = "$dir/s.sock";
    socket(my $server, Socket::AF_UNIX(), Socket::SOCK_DGRAM(), 0) or die;
    bind($server, Socket::pack_sockaddr_un($sock)) or die;
    my (undef, $err) = run_perl({ PERL_ANYEVENT_LOG => 'log=syslog=LOG_LOCAL0' },
        qq{ use Sys::Syslog; Sys::Syslog::setlogsock({ type => "unix", path => "$sock" }); use AnyEvent; AE::log error => "to syslog" });
    is $err, '', 'no longer on stderr';
    my $rin = '';
    vec($rin, fileno $server, 1) = 1;
    ok select(my $rout = $rin, undef, undef, 5), 'a datagram arrived';
    sysread $server, my $buf, 4096;
    like $buf, qr/^<131>.*: \(main\) to syslog/, 'local0 (16) * 8 + err (3)';
};

subtest 'malformed specifications: one warning, the rest applies' => sub {
    my ($out, $err, $status) = run_perl({ PERL_ANYEVENT_LOG => 'filter=loud,warn:junk:Other=,:log=+' }, $emit);
    is $status, 0, 'the program runs';
    my @warnings = grep /PERL_ANYEVENT_LOG/, split /\n/, $err;
    is scalar @warnings, 1, 'one warning';
    like $warnings[0], qr/^AnyEvent::Log: PERL_ANYEVENT_LOG \(.*\): unknown directive 'loud'; 'junk' is not context=directives; unexpected ',' \(ignored, the rest applies\)$/,
        'naming each problem';
    my @lines = grep !/PERL_ANYEVENT_LOG/, split /\n/, $err;
    is scalar @lines, 8, 'filter=warn still applied (4 levels from each of 2 packages)';

    ($out, $err) = run_perl({ PERL_ANYEVENT_LOG => 'log=file=/nonexistent/dir/x.log,cap=sometimes' }, q{ use AnyEvent; print "ran" });
    is $out, 'ran';
    like $err, qr/^AnyEvent::Log: PERL_ANYEVENT_LOG \(.*\): sometimes: not a valid logging level, caught \(cap\) \(ignored, the rest applies\)\n\z/,
        'a bad level in cap=';
};

subtest 'PERL_ANYEVENT_VERBOSE without PERL_ANYEVENT_LOG does not load the module' => sub {
    my ($out) = run_perl({ PERL_ANYEVENT_VERBOSE => 9 }, q{ use AnyEvent; print exists $INC{"AnyEvent/Log.pm"} ? 1 : 0 });
    is $out, 0;
    ($out) = run_perl({ PERL_ANYEVENT_LOG => 'filter=warn' }, q{ use AnyEvent; print exists $INC{"AnyEvent/Log.pm"} ? 1 : 0 });
    is $out, 1, 'PERL_ANYEVENT_LOG does';
};

done_testing;
