# AnyEvent::Debug: the shell driven over a real unix socket (the shell runs in a child
# process), wrap and the AnyEvent::Debug::Wrapped objects, cb2str, path2mod, backtrace.
use strict;
use lib "t/lib";
use warnings;
use Test::More;
use AETest qw(tempdir);
use AnyEvent;
use AnyEvent::Debug;
use Socket qw(AF_UNIX SOCK_STREAM pack_sockaddr_un);

AETest::watchdog(60);
my $dir = tempdir();

subtest 'the shell over a socket' => sub {
    my $path = "$dir/shell";
    my $pid = fork // die;
    unless ($pid) {
        local $SIG{ALRM} = sub { CORE::exit(3) };
        alarm 30;
        no warnings 'once';
        $AnyEvent::Debug::shell::answer = 42;
        my $shell = AnyEvent::Debug::shell('unix/', $path);
        AnyEvent::Debug::wrap(1);
        our $t = AE::timer 1000, 0, sub { 'the watched timer' };
        AE::cv->recv;
    }
    my $deadline = time + 10;
    select undef, undef, undef, 0.01 until -S $path || time > $deadline;    # the child binds it
    socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die;
    connect($s, pack_sockaddr_un($path)) or die "connect: $!";
    my $buf = '';
    my $until_prompt = sub {
        $buf = '';
        while ($buf !~ /> \z/) {
            my $rin = '';
            vec($rin, fileno $s, 1) = 1;
            select(my $rout = $rin, undef, undef, 10) or last;
            sysread($s, $buf, 4096, length $buf) or last;
        }
        (my $text = $buf) =~ s/\015//g;
        $text =~ s/> \z//;
        return $text;
    };
    my $cmd = sub { syswrite $s, "$_[0]\n"; $until_prompt->() };

    like $until_prompt->(), qr/^Welcome, unix\/:.*, use 'help' for more info!\n\z/, 'greeting and prompt';
    like $cmd->('help'), qr/^help         this command\n.*^wl 'regex'   print wrapped watchers/ms, 'help';
    is $cmd->('1 + 2'), "\n3\n", 'perl code is evaluated, its result printed';
    is $cmd->('(4, 5)'), "\n0: 4\n1: 5\n", 'lists numbered';
    is $cmd->('$answer'), "\n42\n", 'in package AnyEvent::Debug::shell';
    like $cmd->('die "oops\n"'), qr/^oops\n/, 'errors are shown';
    is $cmd->('exit'), "sorry, no... if you want to execute exit, try CORE::exit.\n", 'exit is refused';
    my $wl = $cmd->('wl');
    like $wl, qr/^(\d+)  (\Q$0\E:\d+\(main::__ANON__\)>timer>\Q$0\E:\d+)$/m, 'wl lists the wrapped timer' or diag $wl;
    my ($id, $name) = $wl =~ /^(\d+)  (\S+>timer>\S+)$/m;
    # the arguments come from a hash, in hash order (as in 7.17)
    like $cmd->("i $id"), qr/^\n\Q$id $name\E\ntype:    timer watcher\nargs:    (?:after 1000 interval 0|interval 0 after 1000)\n.*invoked: 0 times\n/s, 'i: details';
    like $cmd->('wl "nomatch"'), qr/^\n\n\z/, 'wl with a pattern that matches nothing';
    is $cmd->("ut $id"), "\ntracing disabled for $name.\n", 'ut id';
    is $cmd->('t'), "\ntracing for newly created watchers is now enabled.\n", 't';
    is $cmd->('ut'), "\ntracing for newly created watchers is now disabled.\n", 'ut';
    is $cmd->('v 9'), "\nverbose logging is now enabled.\n", 'v 9';
    like $cmd->('AE::log error => "to the shell"; 7'), qr/^\S+ \S+ \S+ error AnyEvent::Debug::shell: to the shell\n\n7\n\z/, 'log messages reach the connection';
    is $cmd->('v'), "\nverbose logging is now disabled.\n", 'v toggles';
    is $cmd->('wr 0'), "\nwrap level now 0\n", 'wr';
    like $cmd->('w 12345'), qr/^12345: no such wrapped watcher\.\n/, 'w with an unknown id';
    close $s;
    kill 'TERM', $pid;
    waitpid $pid, 0;
    $? = 0;    # the child's status is not the test's
};

subtest 'wrap' => sub {
    is $AnyEvent::Debug::WRAP_LEVEL, 0, 'off by default';
    AnyEvent::Debug::wrap(2);
    my $cv = AE::cv;
    my $line = __LINE__ + 1;
    my $t = AE::timer 0, 0, sub { $cv->send; die "inside\n" };
    isa_ok $t, 'AnyEvent::Debug::Wrapped';
    like "$t", qr/^\Q$0\E:$line\(main::__ANON__\)>timer>\Q$0\E:$line$/, 'stringified: where created (file, line, sub), type, callback';
    is $AnyEvent::Debug::Wrapped{ $t->id }, $t, 'registered under its id';
    my @logged;
    local $SIG{__WARN__} = sub { push @logged, @_ };
    $cv->recv;
    my $wait = AE::cv;
    my $w2 = AE::timer 0, 0, sub { $wait->send };
    $wait->recv;
    is $t->{called}, 1, 'calls counted';
    like $t->{error}[0][1], qr/^inside\n/, 'errors recorded (with a backtrace)';
    ok scalar(grep /error AnyEvent::Debug::Wrap: \(\Q$t\E\) inside/, @logged), 'and logged at error' or diag @logged;
    like $t->verbose, qr/^type:    timer watcher\n.*\ncreated\n.*\nerrors:   1\nerror: /s, 'verbose, with the creation backtrace at level 2';
    my $id = $t->id;
    undef $t;
    ok !exists $AnyEvent::Debug::Wrapped{$id}, 'forgotten when destroyed';
    AnyEvent::Debug::wrap(0);
    ok B::svref_2object(\&AE::timer)->XSUB, 'wrap 0: AE::timer is the XSUB again';
    is ref(AE::timer(1, 0, sub { })), 'AnyEvent::Impl::Rust::timer', 'and watchers are plain';
    AnyEvent::Debug::wrap();
    is $AnyEvent::Debug::WRAP_LEVEL, 1, 'wrap without argument toggles';
    AnyEvent::Debug::wrap();
    is $AnyEvent::Debug::WRAP_LEVEL, 0;
};

subtest 'cb2str, path2mod, backtrace' => sub {
    require B;
    is AnyEvent::Debug::cb2str(\&AnyEvent::Debug::wrap), 'AnyEvent::Debug::wrap', 'a named sub';
    my $line = __LINE__ + 1;
    my $anon = sub { 1 };
    is AnyEvent::Debug::cb2str($anon), "$0:$line", 'an anonymous sub: file and line';
    is AnyEvent::Debug::cb2str('x'), 'x', 'not code: as a string';
    is AnyEvent::Debug::path2mod($INC{'AnyEvent/Debug.pm'}), 'AnyEvent::Debug', 'path2mod';
    is AnyEvent::Debug::path2mod('./some/file.pl'), 'some/file.pl', 'unknown paths';
    my $bt = sub { AnyEvent::Debug::backtrace() }->('arg');
    isa_ok $bt, 'AnyEvent::Debug::Backtrace';
    like "$bt", qr/^\Q$0\E line \d+ +AnyEvent::Debug::backtrace\(\)\n\Q$0\E line \d+ +main::__ANON__\('arg'\)\n/, 'stringified backtrace: where, and the call with its arguments';
};

subtest 'PERL_ANYEVENT_DEBUG_WRAP and PERL_ANYEVENT_DEBUG_SHELL' => sub {
    require AETest::Perl;
    my ($out) = AETest::Perl::run_perl({ PERL_ANYEVENT_DEBUG_WRAP => 1 }, q{ use AnyEvent; print ref AE::timer 1, 0, sub { } });
    is $out, 'AnyEvent::Debug::Wrapped';
    ($out) = AETest::Perl::run_perl({ PERL_ANYEVENT_DEBUG_SHELL => "$dir/sh\$\$" },
        q{ use AnyEvent; print defined $AnyEvent::MODEL ? "detected" : "lazy", " ";
           AnyEvent::detect; print -S "} . $dir . q{/sh$$" ? "listening" : "not", " ", ref $AnyEvent::Debug::SHELL });
    my $guard_class = eval { require Guard; $Guard::VERSION >= 0.5 } ? 'Guard' : 'AnyEvent::Util::guard';
    is $out, "lazy listening $guard_class",
        'a shell on the path ($$ replaced by the pid), kept in $AnyEvent::Debug::SHELL, made at detection (as 7.17)';
};

done_testing;
