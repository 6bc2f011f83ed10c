# The documentation: every public name of every module has POD (Pod::Coverage), podchecker
# finds neither errors nor warnings, and no L<> link points at nothing (a page of ours that we
# do not ship, a section that page lacks, a module that is not installed).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Find ();
use Pod::Checker ();

# the modules and pages, from blib when run by make test (else lib/)
my $root = -d 'blib/lib' ? 'blib/lib' : 'lib';
my %file;    # package => file
File::Find::find({ no_chdir => 1, wanted => sub {
    return unless /\.(?:pm|pod)$/;
    (my $pkg = substr $_, length($root) + 1) =~ s/\.(?:pm|pod)$//;
    $pkg =~ s{/}{::}g;
    $file{$pkg} = $_;
} }, $root);
ok exists $file{AnyEvent}, "found the modules under $root";

# --- podchecker: no errors, no warnings; collect headings and links ---------------------------

my (%nodes, %links);
for my $pkg (sort keys %file) {
    my $checker = Pod::Checker->new(-warnings => 1);    # podchecker's default level
    open my $out, '>', \(my $report = '');
    $checker->parse_from_file($file{$pkg}, $out);
    is $checker->num_errors, 0, "podchecker $file{$pkg}: no errors" or diag $report;
    is $checker->num_warnings, 0, "podchecker $file{$pkg}: no warnings" or diag $report;
    $nodes{$pkg} = { map { $_ => 1 } $checker->node, $checker->idx };
    $links{$pkg} = [grep { $_->type eq 'pod' && length $_->page } $checker->hyperlinks];
}

# --- links to other pages --------------------------------------------------------------------

sub installed {
    my ($module) = @_;
    (my $path = "$module.pm") =~ s{::}{/}g;
    (my $pod = $path) =~ s/\.pm$/.pod/;
    for my $dir (@INC) {
        next if ref $dir;
        return 1 if -f "$dir/$path" || -f "$dir/$pod" || -f "$dir/pod/$pod";
    }
    return 0;
}

# A section is there when a heading or item is the link's text, or names it as a word (as
# L<AnyEvent/io> names "$w = AnyEvent->io(fh => $fh, ...)").
sub section_exists {
    my ($page, $node) = @_;
    return 1 if $nodes{$page}{$node};
    return scalar grep { /(?<![\w:])\Q$node\E(?![\w:])/ } keys %{ $nodes{$page} };
}

for my $pkg (sort keys %links) {
    for my $link (@{ $links{$pkg} }) {
        my ($page, $node, $line) = ($link->page, $link->node, $link->line);
        my $where = "$file{$pkg} line $line: L<$page" . (length $node ? "/$node" : '') . '>';
        if ($page =~ /^(?:AE|AnyEvent)(?:::|$)/) {
            # ours: the page must be shipped, and the section must exist in it
            ok exists $file{$page}, "$where: page shipped" or next;
            ok section_exists($page, $node), "$where: section exists" if length $node;
        } else {
            ok installed($page), "$where: module installed";
        }
    }
}

# --- every public name documented ------------------------------------------------------------

SKIP: {
    if (!eval { require Pod::Coverage; 1 }) {
        # CI (AE_TEST_PEERS=required) has it (.ci/run installs libpod-coverage-perl)
        BAIL_OUT('Pod::Coverage is required (AE_TEST_PEERS=required) but not installed')
            if ($ENV{AE_TEST_PEERS} // '') eq 'required';
        skip 'Pod::Coverage not installed', 1;
    }

    # Methods that a class overrides or inherits, documented where users look for them.
    my %also_documented_in = (
        'AnyEvent::Base'   => ['AnyEvent'],    # the watcher methods behind AnyEvent->io ...
        'AnyEvent::Strict' => ['AnyEvent'],    # its checking versions of them
        'AnyEvent::IO::Rust' => ['AnyEvent::IO'],    # its XSUBs are AnyEvent::IO's aio_*
    );

    local $SIG{__WARN__} = sub { warn @_ unless $_[0] =~ /^Subroutine \S+ redefined/ };

    # AnyEvent::IO::IOAIO loads AnyEvent::AIO, a CPAN module that is not installed here (its
    # Debian package depends on AnyEvent 7.17 itself); only the loading matters for coverage.
    $INC{'AnyEvent/AIO.pm'} //= __FILE__ if eval { require IO::AIO; 1 };
    # The untested models (AnyEvent::Impl::FLTK, ::Cocoa, ::EventLib, ::UV, ::Irssi, ::Qt) load a loop with no Debian
    # package; when it is missing, an entry in %INC lets the model compile (it calls the loop
    # only at run time), so that its names are still checked.
    for my $loop (qw(FLTK Cocoa::EventLoop Event::Lib UV Irssi Qt)) {
        (my $path = "$loop.pm") =~ s{::}{/}g;
        $INC{$path} //= __FILE__ unless installed($loop);
    }
    for my $pkg (sort grep { $file{$_} =~ /\.pm$/ } keys %file) {
        my $pc = Pod::Coverage->new(package => $pkg, pod_from => $file{$pkg});
        my $rating = $pc->coverage;
        if (!defined $rating) {
            # a module without public subs (AnyEvent::Impl::Perl) is fine; one that fails to
            # load is not
            like $pc->why_unrated, qr/no public symbols/, "$pkg: nothing to document";
            next;
        }
        my %naked = map { $_ => 1 } $pc->naked;
        for my $other (@{ $also_documented_in{$pkg} || [] }) {
            my $opc = Pod::Coverage->new(package => $pkg, pod_from => $file{$other});
            $opc->coverage;
            my %covered_there = map { $_ => 1 } $opc->covered;
            delete @naked{grep { $covered_there{$_} } keys %naked};
        }
        is join(', ', sort keys %naked), '', "$pkg: every public name has POD";
    }
}

done_testing;
