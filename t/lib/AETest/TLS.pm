package AETest::TLS;

# A throw-away PKI made with the openssl command (a test CA, server and client certificates, a
# second untrusted CA), and openssl s_server / s_client peers on loopback.

use strict;
use warnings;
use Exporter 'import';
use AETest qw(need_program tempdir);

our @EXPORT_OK = qw(make_pki start_s_server s_client s_client_verbose);

my (@PIDS, @OUTPUTS);    # the outputs stay open: closing a piped open waits for the child
END { local $?; kill 'TERM', @PIDS if @PIDS; waitpid $_, 0 for @PIDS }

sub _run {
    my (@cmd) = @_;
    my $pid = open my $fh, "-|" // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or die $!;
        exec @cmd or die "exec $cmd[0]: $!";
    }
    my $out = do { local $/; <$fh> };
    close $fh;
    die "command failed: @cmd\n$out" if $?;
}

sub _cert {
    my ($openssl, $dir, $name, $cn, $ca, $ext) = @_;
    open my $fh, '>', "$dir/$name.ext" or die $!;
    print $fh $ext;
    close $fh;
    _run($openssl, qw(req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes),
        -keyout => "$dir/$name.key", -out => "$dir/$name.csr", -subj => "/CN=$cn");
    _run($openssl, qw(x509 -req -days 2 -CAcreateserial), -in => "$dir/$name.csr",
        -CA => "$dir/$ca.pem", -CAkey => "$dir/$ca.key", -extfile => "$dir/$name.ext", -out => "$dir/$name.pem");
}

# Returns the directory holding: ca.pem, server.{pem,key} (localhost, 127.0.0.1),
# server-combined.pem (key and certificate), client.{pem,key}, other-ca.pem, rogue.{pem,key}
# (localhost, signed by the other CA), encrypted.key (passphrase "secret").
sub make_pki {
    my $openssl = need_program('openssl');
    my $dir = tempdir();
    for my $ca (qw(ca other-ca)) {
        _run($openssl, qw(req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2),
            -keyout => "$dir/$ca.key", -out => "$dir/$ca.pem", -subj => "/CN=AnyEvent test $ca",
            -addext => "basicConstraints=critical,CA:TRUE", -addext => "keyUsage=critical,keyCertSign,cRLSign");
    }
    my $server_ext = "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
    _cert($openssl, $dir, "server", "localhost", "ca", $server_ext);
    _cert($openssl, $dir, "rogue", "localhost", "other-ca", $server_ext);
    _cert($openssl, $dir, "client", "test client", "ca", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
    _run($openssl, qw(pkey -aes256 -passout pass:secret), -in => "$dir/server.key", -out => "$dir/encrypted.key");
    open my $combined, '>', "$dir/server-combined.pem" or die $!;
    for my $part ("server.key", "server.pem") {
        open my $in, '<', "$dir/$part" or die $!;
        print $combined do { local $/; <$in> };
    }
    close $combined;
    $dir;
}

# Starts `openssl s_server` on 127.0.0.1 (a free port) with the extra arguments; returns the
# port once it accepts connections, and the server's output handle. Stopped at exit.
sub start_s_server {
    my (@args) = @_;
    my $openssl = need_program('openssl');
    my $pid = open my $out, "-|" // die "fork: $!";
    if (!$pid) {
        open STDERR, '>', '/dev/null' or die $!;
        exec $openssl, "s_server", -accept => "127.0.0.1:0", @args or die "exec openssl: $!";
    }
    push @PIDS, $pid;
    push @OUTPUTS, $out;
    while (my $line = <$out>) {
        return ($1, $out, $pid) if $line =~ /^ACCEPT .*:(\d+)$/;
    }
    die "openssl s_server exited before accepting (@args)";
}

# Starts `openssl s_client -quiet` against 127.0.0.1:$port with $input on its stdin (it stays
# connected until the server closes). Returns a condvar that receives (output, exit status).
sub s_client { _s_client(["-quiet"], @_) }

# The same without -quiet: the output includes s_client's report on the session
# ("New, TLSv1.3 ..." or "Reused, TLSv1.3 ...").
sub s_client_verbose { _s_client([], @_) }

sub _s_client {
    my ($quiet, $port, $input, @args) = @_;
    my $openssl = need_program('openssl');
    my $dir = tempdir();
    open my $in, '>', "$dir/in" or die $!;
    print $in $input;
    close $in;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDIN, '<', "$dir/in" or die $!;
        open STDOUT, '>', "$dir/out" or die $!;
        open STDERR, '>&', \*STDOUT or die $!;
        exec $openssl, "s_client", -connect => "127.0.0.1:$port", @$quiet, @args;
        die "exec openssl: $!";
    }
    require AnyEvent;
    my $cv = AnyEvent->condvar;
    my $w; $w = AnyEvent->child(pid => $pid, cb => sub {
        undef $w;
        open my $fh, '<', "$dir/out" or die $!;
        local $/;
        $cv->send(scalar <$fh>, $_[1] >> 8);
    });
    $cv;
}

1;
