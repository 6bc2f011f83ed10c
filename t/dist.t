# The release: make distdir (with the crates vendored) packed as make dist packs it, then the
# tarball unpacked in a scratch directory and built and tested there with no network (a network
# namespace of its own when we may make one, cargo --offline and an empty CARGO_HOME anyway).
# A crate missing from vendor/, a file missing from MANIFEST or a build that needs the network
# fails here. Runs in a checkout only (a dist's own test run does not make a dist again).
#
# Time: the scratch build keeps its cargo target directory (target/dist-test/target, removed by
# make clean) between runs, so after the first run only what changed is compiled again. It is
# a directory of its own because the dist's crates come from vendor/, whose files cargo does
# not compare with the checkout's: sharing target/release could hide a broken vendor/.
# AE_TEST_DIST=0 skips this test.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_program);
use Cwd qw(getcwd);
use File::Path qw(rmtree mkpath);
use ExtUtils::Manifest ();

plan skip_all => 'AE_TEST_DIST=0' if defined $ENV{AE_TEST_DIST} && !$ENV{AE_TEST_DIST};
plan skip_all => 'runs in a git checkout only' unless -e '.git' && !-d 'vendor';
plan skip_all => 'needs the Makefile of perl Makefile.PL' unless -f 'Makefile';
need_program($_) for qw(git tar gzip nm cargo-vendor-filterer);

my $top     = getcwd;
my $base    = ($ENV{CARGO_TARGET_DIR} || "$top/target") . '/dist-test';
my $version = do { require ExtUtils::MakeMaker; MM->parse_version("lib/AnyEvent.pm") };
my $name    = "AnyEvent-Rust-$version";
my $log     = "$base/build.log";

rmtree(["$base/dist", "$base/unpacked"]);
mkpath(["$base/dist", "$base/unpacked", "$base/cargo-home"]);

# Every file git tracks is in MANIFEST, unless MANIFEST.SKIP says it is not for the dist.
{
    my $skip = ExtUtils::Manifest::maniskip();
    my $manifest = ExtUtils::Manifest::maniread();
    my @missing = grep { !$skip->($_) && !exists $manifest->{$_} } split /\n/, `git ls-files`;
    is "@missing", '', 'MANIFEST lists every tracked file that MANIFEST.SKIP does not skip';
}

# Environment for everything below: no make state of the outer make test, the default (release)
# build, and no network for cargo (the crates for vendor/ come from the local registry cache: `cargo fetch --locked`).
delete @ENV{qw(MAKEFLAGS MAKELEVEL MFLAGS AE_RUST_DEBUG)};    # the release build is checked
$ENV{CARGO_NET_OFFLINE} = 'true';

sub run {
    my ($cmd) = @_;
    system("( $cmd ) >>'$log' 2>&1") == 0;
}
sub log_tail {
    open my $fh, '<', $log or return '';
    my @lines = <$fh>;
    return join '', @lines[($#lines > 60 ? $#lines - 60 : 0) .. $#lines];
}
# What failed in the scratch run, wherever it is in the log: the failing assertions with their
# diagnostics and the summary, so a CI report names the test even when the tail is cut.
sub failures {
    open my $fh, '<', $log or return '';
    my ($out, $in_diag) = ('', 0);
    while (my $line = <$fh>) {
        if ($line =~ /^\s*not ok\b|^t\/\S+ \.+ *(?:Dubious|Failed)|^Test Summary Report|^t\/\S+\s+\(Wstat|^\s+Failed tests?:/) {
            $out .= $line;
            $in_diag = 0;
        } elsif ($line =~ /^\s*#\s+(?:Failed test|watchdog:)|^Bail out!/) {
            $out .= $line;
            $in_diag = 1;
        } elsif ($in_diag && $line =~ /^\s*#/) {
            $out .= $line;
        } else {
            $in_diag = 0;
        }
    }
    return $out;
}
unlink $log;

# the dist directory, as make dist makes it, then packed as make dist packs it
ok run("make distdir DISTVNAME='$base/dist/$name'"),
    'make distdir (crates vendored offline with cargo vendor-filterer)'
    or diag log_tail(), "\n(missing crates in the cache? run: cargo fetch --locked)";
my $tarball = "$base/dist/$name.tar.gz";
ok run("tar -C '$base/dist' -cf - '$name' | gzip -9 > '$tarball'"), 'packed';
my $size = -s $tarball // 0;
cmp_ok $size, '<=', 8 * 1024 * 1024, sprintf 'tarball %.1f MB (at most 8 MB)', $size / 1e6;
note sprintf 'tarball: %d bytes', $size;

# unpacked and built in the scratch directory, offline
ok run("tar -C '$base/unpacked' -xzf '$tarball'"), 'unpacked';
my $dir = "$base/unpacked/$name";
ok -f "$dir/.cargo/config.toml" && -d "$dir/vendor", 'the dist carries vendor/ and .cargo/config.toml';

my $build = "cd '$dir' && CARGO_HOME='$base/cargo-home' CARGO_TARGET_DIR='$base/target' "
    . "perl Makefile.PL && make && make test";
# a network namespace with only loopback up: nothing outside this machine can be reached
my $isolated = system("unshare -n true >/dev/null 2>&1") == 0;
note $isolated ? 'building in a network namespace of its own' : 'unshare -n unavailable: relying on cargo --offline';
my $t0 = time;
my $ok = run($isolated ? "unshare -n sh -c 'ip link set lo up && $build'" : $build);
ok $ok, 'the tarball builds offline and passes its tests (perl Makefile.PL && make && make test)'
    or diag "what failed:\n", failures(), "\nthe log's end:\n", log_tail();
note sprintf 'offline build and tests of the tarball: %d s', time - $t0;
like log_tail(), qr/^Result: PASS$/m, '... the Perl tests ran and passed';
like `cat '$log'`, qr/Building with the crates vendored in vendor\/ \(offline\)/, '... with the vendored crates';

# the module it built: small, no debug sections, boot_AnyEvent the only export
my $so = "$dir/blib/arch/auto/AnyEvent/AnyEvent.so";
my $so_size = -s $so // 0;
cmp_ok $so_size, '<=', 3 * 1024 * 1024, sprintf 'AnyEvent.so %.2f MiB (at most 3 MiB)', $so_size / 1024 / 1024;
is join(' ', map { (split)[-1] } grep { /\s[TDBRV]\s/ } `nm -D --defined-only '$so'`), 'boot_AnyEvent',
    'AnyEvent.so exports boot_AnyEvent only';
unlike scalar(`readelf -S '$so' 2>&1`), qr/\.debug_/, 'AnyEvent.so has no debug sections';

rmtree(["$base/dist", "$base/unpacked"]) if Test::More->builder->is_passing;
done_testing;
