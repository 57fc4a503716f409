using System.Net;
using Orchflow.Infrastructure.Network;

namespace Orchflow.Tests.Infrastructure.Network;

/// <summary>
/// Every special range of IANA's registries that Orchflow refuses, one row each (its first address, one inside, its
/// last), the IPv6 forms that carry an IPv4 address, and public addresses on either side of the ranges.
/// </summary>
[TestFixture]
public sealed class SpecialAddressesTests
{
    [TestCase("0.0.0.0", "this network (0.0.0.0/8)")]
    [TestCase("0.255.255.255", "this network (0.0.0.0/8)")]
    [TestCase("10.0.0.0", "private-use (10.0.0.0/8)")]
    [TestCase("10.20.30.40", "private-use (10.0.0.0/8)")]
    [TestCase("10.255.255.255", "private-use (10.0.0.0/8)")]
    [TestCase("100.64.0.0", "shared address space (carrier-grade NAT) (100.64.0.0/10)")]
    [TestCase("100.127.255.255", "shared address space (carrier-grade NAT) (100.64.0.0/10)")]
    [TestCase("100.100.100.200", "cloud metadata service (Alibaba Cloud) (100.100.100.200/32)")]
    [TestCase("127.0.0.1", "loopback (127.0.0.0/8)")]
    [TestCase("127.255.255.254", "loopback (127.0.0.0/8)")]
    [TestCase("169.254.0.1", "link-local, where cloud metadata services answer (169.254.0.0/16)")]
    [TestCase("169.254.169.254", "link-local, where cloud metadata services answer (169.254.0.0/16)")]
    [TestCase("168.63.129.16", "cloud metadata service (Azure wire server) (168.63.129.16/32)")]
    [TestCase("172.16.0.0", "private-use (172.16.0.0/12)")]
    [TestCase("172.31.255.255", "private-use (172.16.0.0/12)")]
    [TestCase("192.0.0.8", "IETF protocol assignments (192.0.0.0/24)")]
    [TestCase("192.0.2.1", "documentation (TEST-NET-1) (192.0.2.0/24)")]
    [TestCase("192.88.99.1", "6to4 relay anycast (deprecated) (192.88.99.0/24)")]
    [TestCase("192.168.0.1", "private-use (192.168.0.0/16)")]
    [TestCase("192.168.255.255", "private-use (192.168.0.0/16)")]
    [TestCase("198.18.0.0", "benchmarking (198.18.0.0/15)")]
    [TestCase("198.19.255.255", "benchmarking (198.18.0.0/15)")]
    [TestCase("198.51.100.7", "documentation (TEST-NET-2) (198.51.100.0/24)")]
    [TestCase("203.0.113.200", "documentation (TEST-NET-3) (203.0.113.0/24)")]
    [TestCase("224.0.0.1", "multicast (224.0.0.0/4)")]
    [TestCase("239.255.255.250", "multicast (224.0.0.0/4)")]
    [TestCase("240.0.0.1", "reserved (and limited broadcast) (240.0.0.0/4)")]
    [TestCase("255.255.255.255", "reserved (and limited broadcast) (240.0.0.0/4)")]
    [TestCase("::", "unspecified (::/128)")]
    [TestCase("::1", "loopback (::1/128)")]
    [TestCase("64:ff9b:1::a00:1", "local-use NAT64 (64:ff9b:1::/48)")]
    [TestCase("100::1", "discard-only (100::/64)")]
    [TestCase("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo tunnelling (2001::/32)")]
    [TestCase("2001:2::1", "benchmarking (2001:2::/48)")]
    [TestCase("2001:10::1", "IETF protocol assignments (2001::/23)")]
    [TestCase("2001:db8::1", "documentation (2001:db8::/32)")]
    [TestCase("3fff:1::1", "documentation (3fff::/20)")]
    [TestCase("fc00::1", "unique-local (fc00::/7)")]
    [TestCase("fd12:3456:789a::1", "unique-local (fc00::/7)")]
    [TestCase("fd00:ec2::254", "cloud metadata service (AWS) (fd00:ec2::254/128)")]
    [TestCase("fe80::1", "link-local (fe80::/10)")]
    [TestCase("febf:ffff::1", "link-local (fe80::/10)")]
    [TestCase("fec0::1", "site-local (deprecated) (fec0::/10)")]
    [TestCase("ff02::1", "multicast (ff00::/8)")]
    [TestCase("4000::1", "reserved, outside global unicast 2000::/3 (4000::/3)")]
    [TestCase("1234::1", "reserved, outside global unicast 2000::/3 (::/3)")]
    public void Of_SpecialAddress_NamesItsRange(string address, string range) =>
        Assert.That(SpecialAddresses.Of(IPAddress.Parse(address))?.ToString(), Is.EqualTo(range));

    [TestCase("::ffff:10.0.0.1", "private-use (10.0.0.0/8), carried in IPv4-mapped IPv6 (::ffff:0:0/96)")]
    [TestCase("::ffff:127.0.0.1", "loopback (127.0.0.0/8), carried in IPv4-mapped IPv6 (::ffff:0:0/96)")]
    [TestCase("::ffff:169.254.169.254", "link-local, where cloud metadata services answer (169.254.0.0/16), carried in IPv4-mapped IPv6 (::ffff:0:0/96)")]
    [TestCase("::10.0.0.1", "private-use (10.0.0.0/8), carried in IPv4-compatible IPv6 (deprecated) (::/96)")]
    [TestCase("::8.8.8.8", "IPv4-compatible IPv6 (deprecated) (::/96)")]
    [TestCase("64:ff9b::10.1.2.3", "private-use (10.0.0.0/8), carried in NAT64 (64:ff9b::/96)")]
    [TestCase("64:ff9b::7f00:1", "loopback (127.0.0.0/8), carried in NAT64 (64:ff9b::/96)")]
    [TestCase("64:ff9b::a9fe:a9fe", "link-local, where cloud metadata services answer (169.254.0.0/16), carried in NAT64 (64:ff9b::/96)")]
    [TestCase("64:ff9b::c0a8:101", "private-use (192.168.0.0/16), carried in NAT64 (64:ff9b::/96)")]
    [TestCase("2002:a00:1::1", "private-use (10.0.0.0/8), carried in 6to4 (2002::/16)")]
    [TestCase("2002:7f00:1::", "loopback (127.0.0.0/8), carried in 6to4 (2002::/16)")]
    [TestCase("2002:a9fe:a9fe::1", "link-local, where cloud metadata services answer (169.254.0.0/16), carried in 6to4 (2002::/16)")]
    [TestCase("2002:c612:1::1", "benchmarking (198.18.0.0/15), carried in 6to4 (2002::/16)")]
    public void Of_IPv6CarryingASpecialIPv4Address_NamesTheCarriedRangeAndTheCarrier(string address, string range) =>
        Assert.That(SpecialAddresses.Of(IPAddress.Parse(address))?.ToString(), Is.EqualTo(range));

    [TestCase("1.1.1.1")]
    [TestCase("8.8.8.8")]
    [TestCase("9.255.255.255")]
    [TestCase("11.0.0.0")]
    [TestCase("100.63.255.255")]
    [TestCase("100.128.0.0")]
    [TestCase("126.255.255.255")]
    [TestCase("128.0.0.0")]
    [TestCase("169.253.255.255")]
    [TestCase("169.255.0.0")]
    [TestCase("172.15.255.255")]
    [TestCase("172.32.0.0")]
    [TestCase("192.167.255.255")]
    [TestCase("192.169.0.0")]
    [TestCase("198.17.255.255")]
    [TestCase("198.20.0.0")]
    [TestCase("223.255.255.255")]
    [TestCase("2606:4700:4700::1111")]
    [TestCase("2a00:1450:4001:80b::200e")]
    [TestCase("::ffff:8.8.8.8")]
    [TestCase("64:ff9b::808:808")]
    [TestCase("2002:808:808::1")]
    public void Of_PublicAddress_Null(string address) =>
        Assert.Multiple(() =>
        {
            Assert.That(SpecialAddresses.Of(IPAddress.Parse(address)), Is.Null);
            Assert.That(SpecialAddresses.IsPublic(IPAddress.Parse(address)), Is.True);
        });

    [TestCase("169.254.169.254")]
    [TestCase("169.254.170.2")]
    [TestCase("168.63.129.16")]
    [TestCase("100.100.100.200")]
    [TestCase("fd00:ec2::254")]
    [TestCase("fe80::a9fe:a9fe")]
    [TestCase("::ffff:169.254.169.254")]
    [TestCase("::ffff:168.63.129.16")]
    [TestCase("64:ff9b::a9fe:a9fe")]
    [TestCase("2002:a9fe:a9fe::")]
    public void Of_LinkLocalOrMetadata_AlwaysDenied(string address) =>
        Assert.That(SpecialAddresses.Of(IPAddress.Parse(address))?.AlwaysDenied, Is.True);
}
