# IDN conversions and punycode (RFC 3492).
use strict;
use lib "t/lib";
use warnings;
use utf8;
use Test::More;
use AETest ();    # fails the run on warnings from lib/
use AnyEvent::Util qw(idn_to_ascii idn_to_unicode punycode_encode punycode_decode idn_nameprep);

binmode Test::More->builder->$_, ':utf8' for qw(output failure_output todo_output);

is idn_to_ascii('bücher.de'), 'xn--bcher-kva.de', 'bücher.de to ASCII';
is idn_to_unicode('xn--bcher-kva.de'), 'bücher.de', 'and back';
is idn_to_ascii('xn--bcher-kva.de'), 'xn--bcher-kva.de', 'to_ascii is idempotent';
is idn_to_unicode('bücher.de'), 'bücher.de', 'to_unicode is idempotent';
is idn_to_ascii('www.Example.COM'), 'www.Example.COM', 'ASCII names are returned as they are';
is idn_to_unicode('WWW.Example.COM'), 'www.example.com', 'to_unicode lower-cases';
is idn_to_ascii('日本語。ＪＰ'), 'xn--wgv71a119e.jp', 'full-width dot and letters are mapped';
is idn_to_unicode('xn--wgv71a119e.jp'), '日本語.jp', 'Japanese round trip';
is idn_to_ascii('Bücher.DE'), 'xn--bcher-kva.de', 'mixed case IDN is lower-cased';
is idn_to_unicode('www.xn--l-0ga.de'), 'www.öl.de', 'documented example';
is idn_to_unicode('xn--99999999999999999999a.de'), 'xn--99999999999999999999a.de', 'undecodable label: name returned unchanged';
is idn_nameprep('Bücher.DE'), 'bücher.de', 'idn_nameprep maps and lower-cases';

# RFC 3492 section 7.1 samples
my %sample = (
    'ليهمابتكلموشعربي؟'          => 'egbpdaj6bu4bxfgehfvwxn',
    '他们为什么不说中文'             => 'ihqwcrb4cv8a8dqg056pqjye',
    'Pročprostěnemluvíčesky'    => 'Proprostnemluvesky-uyb24dma41a',
    'почемужеонинеговорятпорусски' => 'b1abfaaepdrnnbgefbadotcwatmq2g4l',
    '3年B組金八先生'                 => '3B-ww4c5e180e575a65lsy2b',
    '安室奈美恵-with-SUPER-MONKEYS'  => '-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n',
    'Hello-Another-Way-それぞれの場所' => 'Hello-Another-Way--fc4qua05auwb3674vfr0b',
    'MajiでKoiする5秒前'             => 'MajiKoi5-783gue6qz075azm5e',
    'そのスピードで'                 => 'd9juau41awczczp',
    '-> $1.00 <-'               => '-> $1.00 <--',
);
for my $unicode (sort keys %sample) {
    is punycode_encode($unicode), $sample{$unicode}, "punycode_encode $sample{$unicode}";
    is punycode_decode($sample{$unicode}), $unicode, "punycode_decode $sample{$unicode}";
}
ok !eval { punycode_decode("bad\x{80}"); 1 }, 'punycode_decode croaks on non-ASCII input';
like $@, qr/not valid punycode/, '... saying so';
ok !eval { punycode_decode('99999999999999999999a'); 1 }, 'and on overflow';

done_testing;
