use strict;
use warnings;
use Test::More;

# One ABI: the C declarations in aers.h must say what the Rust exports in rust/ffi/ are.
# This test reads both and fails on any difference: the set of functions, each parameter's
# type, the fields of the #[repr(C)] structs, and the AERS_* constants. It also checks the FFI
# contract of rust/ffi/contract.rs on every export: it returns a Status and its body runs
# through `call` (the panic-catching wrapper), and nothing outside rust/ffi/ exports a symbol.

my $root = -f 'aers.h' ? '.' : die "run from the distribution's directory\n";

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    return scalar <$fh>;
}

# --- The Rust side ---------------------------------------------------------------------------

my (%rust_fn, %rust_struct, %rust_const);
my @ffi_files = sort glob "$root/rust/ffi/*.rs";
ok(@ffi_files, 'rust/ffi/*.rs found');
for my $file (@ffi_files) {
    my $src = slurp($file);
    (my $short = $file) =~ s{^\Q$root\E/}{};
    $src =~ s{//[^\n]*}{}g;    # comments (doc comments too)
    # cfg(test) modules hold no exports
    while ($src =~ /#\[no_mangle\]\s*pub\s+(unsafe\s+)?extern\s+"C"\s+fn\s+(\w+)\s*\(([^)]*)\)\s*(?:->\s*([^{]+?))?\s*\{/gs) {
        my ($name, $args, $ret) = ($2, $3, $4 // '()');
        my $body_start = pos($src);
        my $depth = 1;
        my $i = $body_start;
        while ($depth && $i < length $src) {
            my $c = substr($src, $i++, 1);
            $depth++ if $c eq '{';
            $depth-- if $c eq '}';
        }
        my $body = substr($src, $body_start, $i - $body_start - 1);
        my @params = map { s/^\s+|\s+$//gr } grep { /\S/ } split /,/, $args;
        $rust_fn{$name} = {
            file   => $short,
            ret    => $ret =~ s/\s+//gr,
            params => [ map { my ($n, $t) = /^(\w+)\s*:\s*(.+)$/s or die "$short: $name: cannot parse '$_'"; [ $n, $t =~ s/\s+/ /gr ] } @params ],
            body   => $body,
        };
    }
    while ($src =~ /#\[repr\(C\)\]\s*(?:#\[[^\]]*\]\s*)*pub\s+struct\s+(\w+)\s*\{([^}]*)\}/gs) {
        my ($name, $fields) = ($1, $2);
        $rust_struct{$name} = struct_fields($fields);
    }
    while ($src =~ /pub\s+const\s+(AERS_\w+)\s*:\s*\w+\s*=\s*(-?\d+)\s*;/g) {
        $rust_const{$1} = $2;
    }
}
sub struct_fields {
    my ($fields) = @_;
    my @f;
    for (split /,/, $fields) {
        my ($name, $type) = /^\s*pub(?:\([^)]*\))?\s+(\w+)\s*:\s*(.+?)\s*$/s or next;
        push @f, [ $name, $type =~ s/\s+/ /gr ];
    }
    return \@f;
}

# Value structs defined outside rust/ffi/ that cross the boundary.
for my $file ("$root/rust/dns/value.rs") {
    my $src = slurp($file) =~ s{//[^\n]*}{}gr;
    while ($src =~ /#\[repr\(C\)\]\s*(?:#\[[^\]]*\]\s*)*pub\s+struct\s+(\w+)\s*\{([^}]*)\}/gs) {
        my ($name, $fields) = ($1, $2);
        $rust_struct{$name} = struct_fields($fields);
    }
}
ok(scalar(keys %rust_fn) > 50, scalar(keys %rust_fn) . ' Rust exports found');

# Nothing outside rust/ffi/ exports a symbol.
{
    my @outside;
    my @dirs = ("$root/rust");
    while (my $dir = shift @dirs) {
        for my $path (sort glob "$dir/*") {
            if (-d $path) { push @dirs, $path unless $path =~ m{/ffi$}; next }
            next unless $path =~ /\.rs$/;
            push @outside, $path if slurp($path) =~ /#\[no_mangle\]/;
        }
    }
    is("@outside", '', 'no #[no_mangle] outside rust/ffi/');
}

# --- The contract ---------------------------------------------------------------------------

for my $name (sort keys %rust_fn) {
    my $f = $rust_fn{$name};
    is($f->{ret}, 'Status', "$name returns a Status");
    # aers_last_error must work after a panic (the message is read then): it copies a string
    # and cannot panic, so it stands outside the wrapper.
    next if $name eq 'aers_last_error';
    like($f->{body}, qr/^\s*(?:install_quiet_panic_hook\(\);\s*)?call\(\s*\|\|/, "$name: the body runs through call()");
}

# --- The C side -----------------------------------------------------------------------------

my $h = slurp("$root/aers.h");
$h =~ s{/\*.*?\*/}{}gs;
my (%c_fn, %c_struct, %c_const);
while ($h =~ /^\s*(int|void)\s+(aers_\w+)\s*\(([^)]*)\)\s*;/mg) {
    my ($ret, $name, $args) = ($1, $2, $3);
    $c_fn{$name} = {
        ret    => $ret,
        params => [ map { c_param($_) } grep { /\S/ && !/^\s*void\s*$/ } split /,/, $args ],
    };
}
while ($h =~ /typedef\s+struct\s*\{([^}]*)\}\s*(\w+)\s*;/g) {
    my ($fields, $name) = ($1, $2);
    $c_struct{$name} = [ map { c_param($_) } grep { /\S/ } split /;/, $fields ];
}
while ($h =~ /^#define\s+(AERS_\w+)\s+\(?(-?\d+)u?\)?\s*$/mg) {
    $c_const{$1} = $2;
}

# (name, normalised type) of a C declaration such as "const char *const *servers".
sub c_param {
    my ($decl) = @_;
    $decl =~ s/^\s+|\s+$//g;
    $decl =~ /^(.*?)\s*\b(\w+)$/s or die "cannot parse C declaration '$decl'";
    return [ $2, norm_c($1) ];
}

sub norm_c {
    my ($t) = @_;
    $t =~ s/\s+/ /g;
    $t =~ s/\s*\*\s*/*/g;
    $t =~ s/^\s+|\s+$//g;
    return $t;
}

# --- Types ---------------------------------------------------------------------------------

my %base = (
    u8 => [ 'uint8_t', 'char' ], i8 => ['int8_t'], u16 => ['uint16_t'], i16 => ['int16_t'],
    u32 => [ 'uint32_t', 'unsigned' ], i32 => [ 'int32_t', 'int' ], u64 => ['uint64_t'], i64 => ['int64_t'],
    usize => ['size_t'], isize => ['ptrdiff_t'], f64 => ['double'], bool => ['bool'],
    Status => ['int'], Callback => ['void*'], 'c_void' => ['void'], 'libc::stat' => ['struct stat'],
    # opaque handles and #[repr(C)] structs: Rust name => C name
    Loop => ['aers_loop'], AersReady => ['aers_ready'],
    Context => ['aers_tls_ctx'], Session => ['aers_tls'],
    FlatNode => ['aers_dns_node'], AersDnsSettings => ['aers_dns_settings'],
    AersDnsLookup => ['aers_dns_lookup'], AersDnsPack => ['aers_dns_pack_req'], AersDnsStats => ['aers_dns_stats_t'],
    AersDnsAnswer => ['aers_dns_answer'], AersDnsExamine => ['aers_dns_examine_args'],
    FioHandle => ['aers_fio'], AersFioReq => ['aers_fio_req'], AersFioDone => ['aers_fio_done'],
);

# The C spellings (normalised) a Rust type may have.
sub c_of {
    my ($t) = @_;
    $t =~ s/^\s+|\s+$//g;
    if ($t =~ /^\*(mut|const)\s+(.+)$/) {
        my ($mut, $inner) = ($1, $2);
        return map {
            my $c = $_;
            $c = $c =~ /\*$/ ? "${c}const" : "const $c" if $mut eq 'const';
            "$c*";
        } c_of($inner);
    }
    $t =~ s/^(?:std::ffi::|libc::)(?=c_void$)//;
    my $c = $base{$t} or return ("<unknown Rust type $t>");
    return @$c;
}

sub type_ok {
    my ($rust, $c) = @_;
    return scalar grep { $_ eq $c } c_of($rust);
}

# --- Comparison ------------------------------------------------------------------------------

is_deeply([ sort keys %c_fn ], [ sort keys %rust_fn ], 'aers.h declares exactly the Rust exports');

for my $name (sort keys %rust_fn) {
    my ($r, $c) = ($rust_fn{$name}, $c_fn{$name}) or next;
    next unless $c;
    is($c->{ret}, 'int', "$name: int (status) in aers.h");
    is(scalar @{ $c->{params} }, scalar @{ $r->{params} }, "$name: parameter count");
    for my $i (0 .. $#{ $r->{params} }) {
        my ($rp, $cp) = ($r->{params}[$i], $c->{params}[$i]) or next;
        next unless $cp;
        ok(type_ok($rp->[1], $cp->[1]), "$name: parameter $i ($rp->[0]): Rust $rp->[1] ~ C $cp->[1]")
            or diag "C spellings of $rp->[1]: " . join ', ', c_of($rp->[1]);
    }
}

for my $rname (sort keys %rust_struct) {
    my ($cname) = @{ $base{$rname} || [] };
    ok($cname && $c_struct{$cname}, "#[repr(C)] $rname is declared in aers.h" . ($cname ? " ($cname)" : '')) or next;
    my ($r, $c) = ($rust_struct{$rname}, $c_struct{$cname});
    is(join(' ', map { $_->[0] } @$c), join(' ', map { $_->[0] } @$r), "$cname: the fields of $rname, in order");
    for my $i (0 .. $#$r) {
        next unless $c->[$i];
        ok(type_ok($r->[$i][1], $c->[$i][1]), "$cname.$r->[$i][0]: Rust $r->[$i][1] ~ C $c->[$i][1]");
    }
}

is_deeply(\%c_const, \%rust_const, 'the AERS_* constants of aers.h are those of rust/ffi/');

# The glue declares no Rust export of its own (all of them come from aers.h).
for my $file (sort glob("$root/xs/*.h"), "$root/AnyEvent.xs") {
    my $src = slurp($file);
    my @decl = $src =~ /^\s*(?:int|void|double)\s+(aers_\w+)\s*\(/mg;
    is("@decl", '', "$file declares no aers_ function");
}

done_testing;
