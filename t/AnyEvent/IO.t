# AnyEvent::IO itself: the exports and flags, the prototypes of every backend, and how the
# backend is chosen ($AnyEvent::IO::MODEL, PERL_ANYEVENT_IO_MODEL, preloading).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use Fcntl ();
use POSIX ();

watchdog(60);

my @aio = qw(aio_load aio_open aio_close aio_seek aio_read aio_write aio_truncate aio_utime
             aio_chown aio_chmod aio_stat aio_lstat aio_link aio_symlink aio_readlink aio_rename
             aio_unlink aio_mkdir aio_rmdir aio_readdir);
my @flags = qw(O_RDONLY O_WRONLY O_RDWR O_CREAT O_EXCL O_TRUNC O_APPEND);
my %proto = (
    aio_load => '$$', aio_open => '$$$$', aio_close => '$$', aio_seek => '$$$$', aio_read => '$$$',
    aio_write => '$$$', aio_truncate => '$$$', aio_utime => '$$$$', aio_chown => '$$$$',
    aio_chmod => '$$$', aio_stat => '$$', aio_lstat => '$$', aio_link => '$$$', aio_symlink => '$$$',
    aio_readlink => '$$', aio_rename => '$$$', aio_unlink => '$$', aio_mkdir => '$$$', aio_rmdir => '$$',
    aio_readdir => '$$',
);

# Runs perl with our build; returns its output (stdout and stderr).
sub perl_out {
    my ($env, @args) = @_;
    local %ENV = (%ENV, %$env);
    delete $ENV{PERL_ANYEVENT_IO_MODEL} unless exists $env->{PERL_ANYEVENT_IO_MODEL};
    my $pid = open(my $p, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT) or die $!;
        exec($^X, '-Mblib', @args) or POSIX::_exit(127);
    }
    local $/;
    my $out = <$p> // '';
    close $p;
    return $out;
}

# exports and flags, in a package of their own
{
    package Defaults;
    use AnyEvent::IO;
    package Flags;
    use AnyEvent::IO qw(:flags);
    package Tags;
    use AnyEvent::IO qw(:aio :flags);
}
for my $name (@aio) {
    no strict "refs";
    ok(defined &{"Defaults::$name"}, "$name is exported by default");
    ok(!defined &{"Flags::$name"}, "... not with :flags alone");
    ok(defined &{"Tags::$name"}, "... and with :aio");
    is(prototype("AnyEvent::IO::$name"), $proto{$name}, "... prototype $proto{$name}");
}
for my $name (@flags) {
    no strict "refs";
    ok(!defined &{"Defaults::$name"}, "$name is not exported by default");
    is(&{"Flags::$name"}(), &{"Fcntl::$name"}(), "$name from :flags is Fcntl's value");
    is(&{"AnyEvent::IO::$name"}(), &{"Fcntl::$name"}(), "AnyEvent::IO::$name");
}
is_deeply([sort @AnyEvent::IO::EXPORT], [sort @aio], '@EXPORT: the aio_* functions');
is_deeply([sort @AnyEvent::IO::EXPORT_OK], [sort @flags], '@EXPORT_OK: the flags');
is_deeply([sort keys %AnyEvent::IO::EXPORT_TAGS], [qw(aio flags)], 'tags :aio and :flags');

# the prototypes of every backend's functions
my $protos = q{print join ",", map { "$_=" . prototype("AnyEvent::IO::$_") } sort @AnyEvent::IO::AIO_REQ};
my $want = join ",", map { "$_=$proto{$_}" } sort @aio;
for my $model (qw(Perl Rust)) {
    is(perl_out({ PERL_ANYEVENT_IO_MODEL => $model }, '-MAnyEvent::IO', '-e', $protos), $want, "prototypes of the $model backend");
}

# how the backend is chosen
my $model = q{print $AnyEvent::IO::MODEL};
is(perl_out({}, '-MAnyEvent::IO', '-e', $model), 'AnyEvent::IO::Rust', 'default: Rust');
for my $name (qw(Perl Rust AnyEvent::IO::Perl)) {
    (my $short = $name) =~ s/.*:://;
    is(perl_out({ PERL_ANYEVENT_IO_MODEL => $name }, '-MAnyEvent::IO', '-e', $model), "AnyEvent::IO::$short", "PERL_ANYEVENT_IO_MODEL=$name");
}
is(perl_out({}, '-MAnyEvent::IO::Perl', '-MAnyEvent::IO', '-e', $model), 'AnyEvent::IO::Perl', 'a backend loaded first is used');
is(perl_out({ PERL_ANYEVENT_IO_MODEL => 'Rust' }, '-MAnyEvent::IO::Perl', '-MAnyEvent::IO', '-e', $model), 'AnyEvent::IO::Perl', '... even against PERL_ANYEVENT_IO_MODEL');
my $out = perl_out({ PERL_ANYEVENT_IO_MODEL => 'Nonesuch' }, '-MAnyEvent::IO', '-e', $model);
like($out, qr/Unable to load IO model 'Nonesuch'.*AnyEvent::IO::Rust$/s, 'an unknown PERL_ANYEVENT_IO_MODEL is reported, the default used');
$out = perl_out({ PERL_ANYEVENT_IO_MODEL => 'no/such' }, '-MAnyEvent::IO', '-e', $model);
like($out, qr/invalid IO model name 'no\/such'.*AnyEvent::IO::Rust$/s, 'an invalid one too');
is(perl_out({ PERL_ANYEVENT_IO_MODEL => 'Nonesuch', PERL_ANYEVENT_VERBOSE => 3 }, '-MAnyEvent::IO', '-e', $model),
   'AnyEvent::IO::Rust', '... silently below log level 4');
SKIP: {
    skip 'IO::AIO is not installed', 2 unless eval { require IO::AIO; 1 };
    is(perl_out({}, '-e', "use IO::AIO (); use AnyEvent::IO (); $model"), 'AnyEvent::IO::Rust', 'IO::AIO loaded without AnyEvent::AIO: Rust');
    my $fake = q{BEGIN { require AnyEvent; $INC{"AnyEvent/AIO.pm"} = 1 }};
    is(perl_out({}, '-e', "use IO::AIO (); $fake use AnyEvent::IO (); $model"), 'AnyEvent::IO::IOAIO', 'IO::AIO and AnyEvent::AIO loaded: IOAIO');
}

# the program's end waits for outstanding requests (IOAIO's is IO::AIO's own END)
for my $name (qw(Perl Rust)) {
    my $script = q{aio_stat "/", sub { aio_readdir "/", sub { print "done\n" if @{$_[0]} } }};
    is(perl_out({ PERL_ANYEVENT_IO_MODEL => $name }, '-MAnyEvent::IO', '-e', $script), "done\n", "$name: requests outstanding at the end are completed");
}

done_testing;
