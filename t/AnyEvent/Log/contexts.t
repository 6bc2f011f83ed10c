# AnyEvent::Log's contexts: the default hierarchy, levels, caps, slaves, log and format
# callbacks, loggers with their enabled flag, reset.
use strict;
use lib "t/lib";
use warnings;
use Test::More;
use AETest ();
use AnyEvent;
use AnyEvent::Log;

AETest::watchdog(60);

my $stamp = qr/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} [-+]\d{4}/;

# Replaces the default target ($LOG's warn) with a list; returns the list.
sub capture_log {
    my @got;
    $AnyEvent::Log::LOG->log_cb(sub { push @got, $_[0]; 0 });
    return \@got;
}

sub fresh {
    AnyEvent::Log::reset();
    return capture_log();
}

subtest 'the default hierarchy' => sub {
    my $got = fresh();
    is $AnyEvent::Log::LOG->title, '$AnyEvent::Log::LOG';
    is $AnyEvent::Log::FILTER->title, '$AnyEvent::Log::FILTER';
    is $AnyEvent::Log::COLLECT->title, '$AnyEvent::Log::COLLECT';
    my $ctx = AnyEvent::Log::ctx('My::Deep::Module');
    isa_ok $ctx, 'AnyEvent::Log::Ctx';
    is $ctx->title, 'My::Deep::Module', 'a package context is titled with its package';
    is AnyEvent::Log::ctx('My::Deep::Module'), $ctx, 'one context per package';
    is AnyEvent::Log::ctx(), AnyEvent::Log::ctx('main'), 'ctx without argument: the caller\'s package';
    is AnyEvent::Log::ctx($ctx), $ctx, 'a context object is returned as it is';
    isnt AnyEvent::Log::ctx(undef), AnyEvent::Log::ctx(undef), 'ctx undef: a new anonymous context each time';
    is_deeply [$ctx->{slaves} ? values %{ $ctx->{slaves} } : ()], [AnyEvent::Log::ctx('My::Deep')], 'slave: the parent package';
    is_deeply [values %{ AnyEvent::Log::ctx('My')->{slaves} }], [$AnyEvent::Log::COLLECT], 'top-level packages: $COLLECT';

    { package My::Deep::Module; AE::log error => 'from deep'; AE::log info => 'not at the default level 4'; }
    is scalar @$got, 1, 'a package message travels up to $LOG through $FILTER';
    like $got->[0], qr/^$stamp error My::Deep::Module: from deep\n\z/;
};

subtest 'levels, level, enable, disable' => sub {
    my $got = fresh();
    my $ctx = AnyEvent::Log::ctx('Lv');
    $AnyEvent::Log::FILTER->level('all');
    my $try28 = sub { @$got = (); $ctx->log($_ => "l$_") for 2 .. 9; join '', map { /l(\d)$/ } @$got };
    is $try28->(), '23456789', 'all levels by default';
    $ctx->level('warn');    is $try28->(), '2345', 'level warn: 5 and higher priority';
    $ctx->level(3);         is $try28->(), '23', 'level 3';
    $ctx->level('off');     is $try28->(), '', 'level off';
    $ctx->level(0);         is $try28->(), '', 'level 0';
    $ctx->level('all');     is $try28->(), '23456789', 'level all';
    $ctx->levels('debug', 'alert'); is $try28->(), '28', 'levels: exactly those';
    $ctx->levels('all');    is $try28->(), '23456789', 'levels all';
    $ctx->disable('trace', 4); is $try28->(), '235678', 'disable';
    $ctx->enable(4);        is $try28->(), '2345678', 'enable';
    for my $m (qw(level levels enable disable cap)) {
        ok !eval { $ctx->$m('loud'); 1 }, "$m croaks for a bad level";
        like $@, qr/^loud: not a valid logging level/, 'naming it';
    }
};

subtest 'cap lowers the priority on the way' => sub {
    my $got = fresh();
    $AnyEvent::Log::FILTER->level('all');
    my $ctx = AnyEvent::Log::ctx('Capped');
    $ctx->cap('error');
    $ctx->log(alert => 'was alert');
    $ctx->log(debug => 'stays debug');
    like $got->[0], qr/^$stamp error Capped: was alert$/, 'alert capped to error';
    like $got->[1], qr/^$stamp debug Capped: stays debug$/, 'lower priorities untouched';
    $ctx->cap('off');
    @$got = ();
    $ctx->log(alert => 'alert again');
    like $got->[0], qr/ alert Capped: /, 'cap off';
};

subtest 'attach, detach, slaves; each context logs a message once' => sub {
    fresh();
    my (@a, @b);
    my $a = AnyEvent::Log::Ctx->new(title => 'A', log_cb => sub { push @a, $_[0]; 0 });
    my $b = AnyEvent::Log::Ctx->new(log_cb => sub { push @b, $_[0]; 0 });
    my $src = AnyEvent::Log::ctx(undef);
    $src->title('source');
    $src->attach($a, $b, $a);
    $a->attach($b);
    $b->attach($a);    # a cycle
    ok $src->log(info => 'hello'), 'log returns true when logged';
    is scalar @a, 1, 'A once';
    is scalar @b, 1, 'B once, although reachable twice and in a cycle';
    like $a[0], qr/ info  source: hello$/, 'formatted with the originating context\'s title';
    $src->detach($a);
    $b->detach($a);
    @a = @b = ();
    $src->log(info => 'again');
    is_deeply [scalar @a, scalar @b], [0, 1], 'detached';
    $src->slaves($a);
    @a = @b = ();
    $src->log(info => 'third');
    is_deeply [scalar @a, scalar @b], [1, 1], 'slaves replaces (A, then A\'s slave B)';
    $src->slaves;
    ok !$src->log(info => 'nowhere'), 'no slaves: not logged, false';
    AnyEvent::Log::ctx('Named::Pkg')->slaves;
    $src->attach('Named::Pkg');
    is_deeply [values %{ $src->{slaves} }], [AnyEvent::Log::ctx('Named::Pkg')], 'attach by package name';
    ok !eval { $src->attach(undef); 1 }, 'attach undef croaks';
};

subtest 'log_cb consumes, fmt_cb formats' => sub {
    my $got = fresh();
    $AnyEvent::Log::FILTER->level('all');
    my $ctx = AnyEvent::Log::ctx('Eater');
    my @eaten;
    $ctx->log_cb(sub { push @eaten, $_[0]; 1 });
    $ctx->log(warn => 'mine');
    is scalar @eaten, 1;
    is scalar @$got, 0, 'a consumed message does not reach the slaves';
    $ctx->log_cb(undef);
    $ctx->fmt_cb(sub { 'unused: Eater has no log_cb' });
    $AnyEvent::Log::LOG->fmt_cb(sub { my ($time, $orig, $lvl, $msg) = @_; "<$lvl>" . $orig->title . ":$msg|" . ($time =~ /^\d+(\.\d+)?$/ ? 'time' : 'no') });
    $ctx->log(note => "multi\nline\n");
    is_deeply $got, ["<6>Eater:multi\nline|time"], 'the target\'s fmt_cb gets time, originating context, level number, message';
    $AnyEvent::Log::LOG->fmt_cb(sub { \@_ });
    @$got = ();
    $ctx->fmt_cb(undef);
    $ctx->log(note => 'raw %s', 'args');
    is ref $got->[0], 'ARRAY', 'a format callback may return anything';
    is_deeply [@{ $got->[0] }[2, 3]], [6, 'raw args'], 'level number and the sprintf result';
    is $got->[0][1], $ctx, 'the originating context object';
    ok !eval { $ctx->log_cb('not code'); 1 }, 'log_cb croaks for a non-code callback';
    like $@, qr/^log_cb: /;
    ok !eval { $ctx->fmt_cb([]); 1 }, 'fmt_cb too';
};

subtest 'messages: code references, sprintf, trailing newline' => sub {
    my $got = fresh();
    my $called = 0;
    AE::log debug => sub { $called++; 'costly' };
    is $called, 0, 'the code of a message at a disabled level is not called';
    AE::log error => sub { $called++; 'costly' };
    is $called, 1, 'but called when logged';
    like $got->[0], qr/ error main: costly\n\z/;
    AE::log error => "ends with newline\n";
    like $got->[1], qr/ error main: ends with newline\n\z/, 'one trailing newline is dropped';
    AE::log error => '100%';
    like $got->[2], qr/ 100%\n\z/, 'without arguments the message is not a format';
};

subtest 'default_format, format_time, exact_time' => sub {
    my $t = 1700000000.25;
    my @tm = localtime 1700000000;
    my $expect = POSIX::strftime('%Y-%m-%d %H:%M:%S', @tm) . '.250000 ' . POSIX::strftime('%z', @tm);
    is AnyEvent::Log::format_time($t), $expect, 'format_time: local time with microseconds and zone';
    is AnyEvent::Log::default_format($t, AnyEvent::Log::ctx('X::Y'), 5, "a\nb"), "$expect warn  X::Y: a\n$expect + b\n",
        'default_format: level name padded to 5, title, continuation lines';
    my $got = fresh();
    AnyEvent::Log::exact_time(1);
    my $before = AE::time;
    AE::log error => 'exact';
    my ($shown) = $got->[0] =~ /^(\S+ \S+)/;
    ok $shown ge AnyEvent::Log::format_time($before) =~ s/ \S+$//r, 'exact_time 1: the current time';
    AnyEvent::Log::exact_time(0);
};

subtest 'loggers and their enabled flag' => sub {
    my $got = fresh();
    my $debug = AnyEvent::Log::logger(debug => \my $enabled);
    ok !$enabled, 'debug is off by default';
    $debug->('not logged');
    is scalar @$got, 0;
    AnyEvent::Log::ctx('main')->attach($AnyEvent::Log::LOG);
    ok $enabled, 'attaching $LOG to the package turns it on';
    $debug->('%s logged', 'now');
    like $got->[0], qr/ debug main: now logged$/;
    AnyEvent::Log::ctx('main')->detach($AnyEvent::Log::LOG);
    ok !$enabled, 'and detaching off again';
    $AnyEvent::Log::FILTER->level('debug');
    ok $enabled, 'a filter level change is seen';
    my $n = keys %AnyEvent::Log::LOGGER;
    undef $debug;
    is keys %AnyEvent::Log::LOGGER, $n - 1, 'a destroyed logger is forgotten';
    my $ctxlogger = AnyEvent::Log::ctx('Other')->logger(trace => \my $trace_on);
    ok !$trace_on, '$ctx->logger';
    ok !eval { AnyEvent::Log::logger(sometimes => \my $x); 1 }, 'logger croaks for a bad level';
    ok !eval { AnyEvent::Log::logger(info => []); 1 }, 'and for a non-scalar flag';
};

subtest 'the front sees configuration changes at once' => sub {
    my $got = fresh();
    { package Front::Pkg; ::is AE::log(info => 'x'), 0, 'info off'; }
    AnyEvent::Log::ctx('Front')->attach($AnyEvent::Log::LOG);
    { package Front::Pkg; ::is AE::log(info => 'x'), 1, 'on through the parent package'; }
    AnyEvent::Log::ctx('Front::Pkg')->level('warn');
    { package Front::Pkg; ::is AE::log(info => 'x'), 0, 'off by the package\'s own level'; }
    AnyEvent::Log::reset();
    capture_log();
    { package Front::Pkg; ::is AE::log(info => 'x'), 0, 'reset restores the defaults'; }
};

subtest 'reset keeps context objects' => sub {
    fresh();
    my $ctx = AnyEvent::Log::ctx('Keep::Me');
    $ctx->level('off');
    $ctx->title('renamed');
    $ctx->log_cb(sub { 1 });
    AnyEvent::Log::reset();
    is AnyEvent::Log::ctx('Keep::Me'), $ctx, 'same object';
    is $ctx->title, 'Keep::Me', 'title back';
    is $ctx->{mask}, 0x3fe, 'all levels';
    ok !$ctx->{log_cb}, 'no log_cb';
    is_deeply [values %{ $ctx->{slaves} }], [AnyEvent::Log::ctx('Keep')], 'parent slave';
};

subtest 'AnyEvent::Log::Ctx->new' => sub {
    my @got;
    my $ctx = AnyEvent::Log::Ctx->new(title => 'made', level => 'error', log_cb => sub { push @got, @_; 0 }, slaves => []);
    ok $ctx->log(error => 'e');
    ok !$ctx->log(warn => 'w');
    is scalar @got, 1;
    ok !eval { AnyEvent::Log::Ctx->new(colour => 'red'); 1 }, 'unknown method croaks';
    like $@, qr/colour/;
};

done_testing;
