package BenchPeers;
# Helpers for the issue 7 benchmark scripts (https.pl, handshake.pl, echo.pl, http_client.pl):
# a private temp dir, self-signed certificates made with openssl, a private nginx on loopback,
# small C load clients built with cc, and child processes that are stopped when the script ends.
# Uses no AnyEvent: the scripts run the same code against our build and against AnyEvent 7.17.
use strict;
use warnings;
use Exporter 'import';
use File::Temp ();
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();

our @EXPORT_OK = qw(tmpdir make_cert free_port start_nginx build_c build_rust spawn stop forget wait_port cpu_seconds nginx_cpu_seconds);

my $BENCH_DIR = dirname(abs_path(__FILE__));
my @CHILDREN;   # [pid, signal]
my $OWNER = $$;

# A private directory, removed at exit; world-traversable so nginx's worker (nobody) can read it.
sub tmpdir {
    my $dir = File::Temp::tempdir("ae-bench-XXXXXX", TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;
    return $dir;
}

sub _run {
    my (@cmd) = @_;
    system(@cmd) == 0 or die "@cmd: failed (status $?)\n";
}

# Generates a self-signed certificate for CN=localhost; $type is "ecdsa" (P-256) or "rsa"
# (2048 bits). Returns (cert_path, key_path, combined_path) where combined holds key + cert.
sub make_cert {
    my ($dir, $type) = @_;
    my @key = $type eq "rsa"   ? ("-newkey", "rsa:2048")
            : $type eq "ecdsa" ? ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")
            : die "unknown certificate type '$type' (ecdsa or rsa)\n";
    my ($crt, $key, $pem) = map "$dir/$type.$_", qw(crt key pem);
    _run("openssl req -x509 @key -nodes -days 2 -subj /CN=localhost -keyout $key -out $crt 2>/dev/null");
    open my $out, ">", $pem or die "$pem: $!";
    for my $f ($key, $crt) { open my $in, "<", $f or die "$f: $!"; local $/; print {$out} scalar <$in> }
    close $out;
    return ($crt, $key, $pem);
}

# A TCP port on 127.0.0.1 that was free a moment ago.
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1, ReuseAddr => 1)
        or die "free_port: $!";
    return $s->sockport;
}

# Blocks until something accepts on 127.0.0.1:$port (or dies after $secs).
sub wait_port {
    my ($port, $secs) = @_;
    my $until = Time::HiRes::time + ($secs || 5);
    while (Time::HiRes::time < $until) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port);
        return 1 if $s;
        Time::HiRes::sleep(0.02);
    }
    die "nothing listens on 127.0.0.1:$port after ${\($secs || 5)} s\n";
}

# Forks and execs @cmd; the child is sent $sig (default TERM) and reaped when the script ends.
sub spawn {
    my ($sig, @cmd) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        exec @cmd or do { print STDERR "exec $cmd[0]: $!\n"; POSIX::_exit(127) };
    }
    push @CHILDREN, [$pid, $sig || "TERM"];
    return $pid;
}

# Stops one child started by spawn (or all of them without an argument).
sub stop {
    my ($pid) = @_;
    my @which = grep { !defined $pid || $_->[0] == $pid } @CHILDREN;
    kill $_->[1], $_->[0] for @which;
    waitpid $_->[0], 0 for @which;
    my %gone = map { $_->[0] => 1 } @which;
    @CHILDREN = grep { !$gone{ $_->[0] } } @CHILDREN;
}

# Forgets a child that was reaped elsewhere (an AnyEvent child watcher).
sub forget {
    my ($pid) = @_;
    @CHILDREN = grep { $_->[0] != $pid } @CHILDREN;
}

END { stop() if $$ == $OWNER }
$SIG{INT} = $SIG{TERM} = sub { stop(); POSIX::_exit(1) };

# Starts a private nginx (one worker, its own prefix, pid file, logs and temp paths in $dir)
# serving a static file of $opt{size} bytes (default 1024) as /small.txt on
#   http    plain HTTP, keep-alive (1e6 requests per connection)
#   https   TLS, ssl_protocols TLSv1.2 TLSv1.3 (TLS 1.3 is negotiated by default)
#   https12 TLS, ssl_protocols TLSv1.2 only
# with the certificate/key given (cert, key; an ECDSA one is made when none is given). TLS connections are logged to $dir/tls.log as
# "protocol session_reused" so scripts can tell full handshakes from resumptions.
# Returns { http => port, https => port, https12 => port, dir, size, pid }; stop($pid) ends it.
sub start_nginx {
    my (%opt) = @_;
    my $dir  = $opt{dir};
    my $size = $opt{size} // 1024;
    @opt{qw(cert key)} = make_cert($dir, "ecdsa") unless $opt{cert};
    my %port = map { $_ => free_port() } qw(http https https12);
    mkdir "$dir/www";
    open my $f, ">", "$dir/www/small.txt" or die $!;
    print $f substr(("0123456789abcdef" x (1 + $size / 16)), 0, $size - 1), "\n";
    close $f;
    my $tls = "ssl_certificate $opt{cert}; ssl_certificate_key $opt{key}; "
            . "access_log $dir/tls.log tls buffer=64k;";
    open my $c, ">", "$dir/nginx.conf" or die $!;
    print $c <<"EOF";
worker_processes 1;
worker_rlimit_nofile 8192;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    default_type text/plain;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    log_format tls '\$ssl_protocol \$ssl_session_reused';
    server { listen 127.0.0.1:$port{http}; root $dir/www; }
    server { listen 127.0.0.1:$port{https} ssl; root $dir/www; ssl_protocols TLSv1.2 TLSv1.3; $tls }
    server { listen 127.0.0.1:$port{https12} ssl; root $dir/www; ssl_protocols TLSv1.2; $tls }
}
EOF
    close $c;
    my $nginx = -x "/usr/sbin/nginx" ? "/usr/sbin/nginx" : "nginx";
    # QUIT: graceful stop, so the buffered TLS log is flushed
    my $pid = spawn("QUIT", $nginx, "-p", $dir, "-c", "$dir/nginx.conf", "-e", "$dir/error.log",
          "-g", "daemon off; master_process on;");
    wait_port($port{$_}) for qw(http https https12);
    return { %port, dir => $dir, size => $size, pid => $pid };
}

# Compiles bench/$name.c into $dir/$name (cc -O2, extra arguments such as -lssl appended).
sub build_c {
    my ($name, $dir, @libs) = @_;
    my $bin = "$dir/$name";
    _run("cc", "-O2", "-Wall", "-o", $bin, "$BENCH_DIR/$name.c", @libs);
    return $bin;
}

# Builds the cargo package bench/$name (cargo build --release, offline first) and returns the
# binary's path. The first build takes a few tens of seconds; later ones are no-ops.
sub build_rust {
    my ($name) = @_;
    my $manifest = "$BENCH_DIR/$name/Cargo.toml";
    system("cargo build --release -q --offline --manifest-path $manifest 2>/dev/null") == 0
        or _run("cargo build --release -q --manifest-path $manifest >&2");
    return "$BENCH_DIR/$name/target/release/$name";
}

# CPU seconds (user + system) used so far by the nginx started by start_nginx (master and
# workers, from /proc).
sub nginx_cpu_seconds {
    my ($nginx) = @_;
    my $sum = 0;
    my @pids = ($nginx->{pid});
    if (open my $f, "<", "/proc/$nginx->{pid}/task/$nginx->{pid}/children") { push @pids, split " ", scalar <$f> // "" }
    for my $pid (@pids) {
        open my $f, "<", "/proc/$pid/stat" or next;
        my ($after) = (scalar <$f>) =~ /\)\s(.*)/ or next;
        my @f = split " ", $after;
        $sum += ($f[11] + $f[12]) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
    }
    return $sum;
}

# CPU seconds (user + system) this process used so far.
sub cpu_seconds { my @t = times; $t[0] + $t[1] }

1;
