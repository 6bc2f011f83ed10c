# AnyEvent::Base: the internal names CPAN modules use (sig2num/sig2name, _dupfh, _isa_hook).
use strict;
use lib "t/lib";
use warnings;
use Test::More;
use AETest ();
use AnyEvent;
use B ();

is AnyEvent::Base::sig2num('TERM'), 15, 'sig2num of a name';
is AnyEvent::Base::sig2num('SIGINT'), 2, '... with SIG';
is AnyEvent::Base::sig2num(9), 9, '... of a number';
is AnyEvent::Base::sig2num('NOPE'), undef, '... unknown';
is AnyEvent::Base::sig2name(15), 'TERM', 'sig2name of a number';
is AnyEvent::Base::sig2name('SIGHUP'), 'HUP', '... of a name';
is AnyEvent::Base::sig2name('NOPE'), undef, '... unknown';

my ($r, $w) = AETest::sockets();
my ($dup, $which) = AnyEvent::_dupfh('w', $w, 'R', 'W');
ok fileno($dup) != fileno($w), '_dupfh: a new descriptor';
is $which, 'W', '... and the write argument for poll "w"';
syswrite $dup, 'via dup';
sysread $r, my $buf, 10;
is $buf, 'via dup', '... on the same socket';
ok !eval { AnyEvent::_dupfh('r', 987); 1 }, '_dupfh of a closed descriptor dies';
like $@, qr/^AnyEvent->io: cannot dup\(\) filehandle in mode 'r': /;

{
    package My::Hook;
    our @calls;
    sub timer { my ($class, %arg) = @_; push @calls, $arg{after}; $class->SUPER::timer(%arg) }
}
AnyEvent::_isa_hook(1 => 'My::Hook', 1);
my $t1 = AnyEvent->timer(after => 5, cb => sub { });
my $t2 = AE::timer 6, 0, sub { };
is_deeply \@My::Hook::calls, [5, 6], 'a hook sees method and AE:: calls';
is ref $t2, 'AnyEvent::Impl::Rust::timer', 'and passes them on';
ok !B::svref_2object(\&AE::timer)->XSUB, 'AE::timer is a Perl wrapper meanwhile';
AnyEvent::_isa_hook(1 => undef);
ok B::svref_2object(\&AE::timer)->XSUB, 'removing the hook restores the XSUB';
my $t3 = AE::timer 7, 0, sub { };
is scalar @My::Hook::calls, 2, 'and the hook sees nothing more';

done_testing;
