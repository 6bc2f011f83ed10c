# run_cmd with real child processes: exit statuses and every redirection form.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog tempdir);
use AnyEvent;
use AnyEvent::Util;

watchdog(30);
my $dir = tempdir();

is run_cmd([$^X, '-e', 'exit 3'])->recv >> 8, 3, 'exit status as in $?';
is run_cmd('exit 5')->recv >> 8, 5, 'a string runs through the shell';
is run_cmd([$^X, '-e', 'kill TERM => $$'])->recv & 127, 15, 'death by signal';
{
    local $SIG{__WARN__} = sub { }; # perl's "Can't exec" warning, from the child
    is run_cmd(['/nonexistent/program'])->recv >> 8, 126, 'exec failure: 126';
}
is run_cmd('echo "$0" | grep -q sh')->recv, 0, 'the string really runs in a shell';

subtest 'output into scalars' => sub {
    my ($out, $err);
    my $status = run_cmd([$^X, '-e', 'print "out\n"; print STDERR "err\n"; exit 1'],
        '>' => \$out, '2>' => \$err)->recv;
    is $status >> 8, 1, 'status';
    is $out, "out\n", 'stdout into a scalar';
    is $err, "err\n", 'stderr into another';
    my $both = '';
    run_cmd([$^X, '-e', '$|=1; print "a"; print STDERR "b"; print "c"'], '>' => \$both, '2>' => \$both)->recv;
    is length $both, 3, 'both into the same scalar';
    my $big;
    run_cmd([$^X, '-e', 'print "x" x 1_000_000'], '>' => \$big)->recv;
    is length $big, 1_000_000, 'a megabyte, all of it';
};

subtest 'output to callback, file, handle' => sub {
    my @chunks;
    my $eof = 0;
    run_cmd([$^X, '-e', 'print "hello"'], '>' => sub { if (@_) { push @chunks, $_[0] } else { $eof++ } })->recv;
    is join('', @chunks), 'hello', 'callback gets the data';
    is $eof, 1, 'and one call without arguments at EOF';

    run_cmd([$^X, '-e', 'print "to file\n"'], '>' => "$dir/out.txt")->recv;
    open my $fh, '<', "$dir/out.txt" or die;
    is scalar <$fh>, "to file\n", 'to a file name';

    open my $log, '>', "$dir/handle.txt" or die;
    run_cmd([$^X, '-e', 'print STDERR "to handle\n"'], '2>' => $log)->recv;
    close $log;
    open $fh, '<', "$dir/handle.txt" or die;
    is scalar <$fh>, "to handle\n", 'to a file handle';

    is run_cmd(['true'], '>' => "$dir/no/such/dir/file")->recv >> 8, 125, 'unopenable file: 125';
};

subtest 'input' => sub {
    my $in = "line 1\nline 2\n";
    my $out;
    run_cmd([$^X, '-ne', 'print uc'], '<' => \$in, '>' => \$out)->recv;
    is $out, "LINE 1\nLINE 2\n", 'stdin from a scalar';

    is run_cmd(['true'], '>' => \$out)->recv, 0, 'output is appended to the scalar';
    is $out, "LINE 1\nLINE 2\n", '(nothing added)';

    my @parts = ("a\n", "b\n", "c\n");
    $out = '';
    run_cmd([$^X, '-ne', 'print "<$_"'], '<' => sub { shift @parts }, '>' => \$out)->recv;
    is $out, "<a\n<b\n<c\n", 'stdin from a callback until it returns nothing';

    open my $f, '>', "$dir/in.txt" or die;
    print $f "from file\n";
    close $f;
    $out = '';
    run_cmd(['cat'], '<' => "$dir/in.txt", '>' => \$out)->recv;
    is $out, "from file\n", 'stdin from a file name';

    my $big = 'y' x 500_000;
    $out = '';
    run_cmd(['wc', '-c'], '<' => \$big, '>' => \$out)->recv;
    like $out, qr/^\s*500000\s*$/, 'half a megabyte in';
};

subtest 'other descriptors, $$, on_prepare, close_all' => sub {
    my ($fd3, $pid);
    my $cv = run_cmd([$^X, '-e', 'open my $f, ">&=", 3 or die; print $f "fd three"; print $$'],
        '3>' => \$fd3, '>' => \my $out, '$$' => \$pid);
    ok $pid, '$$ receives the pid';
    $cv->recv;
    is $fd3, 'fd three', 'fd 3 redirected';
    is $out, $pid, 'the pid is the child\'s';

    $out = '';
    run_cmd([$^X, '-e', 'print $ENV{FROM_PREPARE}'], '>' => \$out, on_prepare => sub { $ENV{FROM_PREPARE} = 'prepared' })->recv;
    is $out, 'prepared', 'on_prepare runs in the child before exec';
    is $ENV{FROM_PREPARE}, undef, 'not in the parent';

    open my $extra, '<', $0 or die;
    $^F = 1000; # keep $extra open across exec (no close-on-exec) unless close_all closes it
    open my $inherited, '<', $0 or die;
    $^F = 2;
    my $probe = sprintf '-e "/proc/self/fd/%d" ? print "open" : print "closed"', fileno $inherited;
    $out = '';
    run_cmd([$^X, '-e', $probe], '>' => \$out)->recv;
    is $out, 'open', 'without close_all an inheritable descriptor stays open';
    $out = '';
    run_cmd([$^X, '-e', $probe], '>' => \$out, close_all => 1)->recv;
    is $out, 'closed', 'close_all closes it';
};

subtest 'parallel commands' => sub {
    my @cv = map { my $n = $_; run_cmd([$^X, '-e', "print $n * 2"], '>' => \my $o) } 1 .. 5;
    is_deeply [map { $_->recv >> 8 } @cv], [0, 0, 0, 0, 0], 'five children in parallel';
};

ok !eval { run_cmd(['true'], bogus => 1); 1 }, 'unknown option croaks';

done_testing;
