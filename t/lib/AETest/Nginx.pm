package AETest::Nginx;

# Starts nginx (in the foreground, as a child of the test) with a generated configuration on
# 127.0.0.1: a plain HTTP port and, given a certificate, an HTTPS port. Stopped at exit.

use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET;
use Time::HiRes ();
use POSIX ();
use AETest qw(need_program tempdir);

our @EXPORT_OK = qw(start_nginx);

my @PIDS;
END { local $?; kill 'QUIT', @PIDS if @PIDS; waitpid $_, 0 for @PIDS }

sub _free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp") or die $!;
    $s->sockport;
}

# start_nginx(files => { "index.html" => $content, ... }, cert => $pem, key => $pem)
# returns { http => $port, https => $port, root => $dir }.
sub start_nginx {
    my (%arg) = @_;
    my $nginx = need_program('nginx');
    my $dir = tempdir();
    mkdir "$dir/html" or die $!;
    while (my ($name, $content) = each %{ $arg{files} || {} }) {
        open my $fh, '>', "$dir/html/$name" or die $!;
        print $fh $content;
    }
    my %port = (http => _free_port());
    my $tls = "";
    if ($arg{cert}) {
        $port{https} = _free_port();
        $tls = "server { listen 127.0.0.1:$port{https} ssl; ssl_certificate $arg{cert}; ssl_certificate_key $arg{key}; root $dir/html; }";
    }
    open my $conf, '>', "$dir/nginx.conf" or die $!;
    print $conf <<"CONF";
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir;
    proxy_temp_path $dir;
    fastcgi_temp_path $dir;
    uwsgi_temp_path $dir;
    scgi_temp_path $dir;
    server { listen 127.0.0.1:$port{http}; root $dir/html; }
    $tls
}
CONF
    close $conf;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDERR, '>', "$dir/stderr" or die $!;
        exec $nginx, -p => $dir, -c => "$dir/nginx.conf" or die "exec nginx: $!";
    }
    push @PIDS, $pid;
    # wait until every port accepts a connection (or nginx died)
    for my $port (values %port) {
        my $deadline = Time::HiRes::time() + 10;
        until (IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port, Proto => "tcp")) {
            die "nginx exited: " . do { local (@ARGV, $/) = ("$dir/stderr", "$dir/error.log"); <> } if waitpid($pid, POSIX::WNOHANG()) == $pid;
            die "nginx did not listen on $port within 10 s" if Time::HiRes::time() > $deadline;
            select undef, undef, undef, 0.02;
        }
    }
    return +{ %port, root => "$dir/html" };
}

1;
