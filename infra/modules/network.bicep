// The opt-in private network: a virtual network whose first subnet the Function App joins (VNet integration) and whose
// second holds the private endpoints of Storage and Key Vault, with the private DNS zones that make their usual host
// names resolve to those endpoints from inside the network.

param name string
param location string
param tags object

@description('Address space of the network; the two subnets take its first two /24 ranges.')
param addressPrefix string = '10.40.0.0/16'

var appSubnetName = 'app'
var endpointSubnetName = 'private-endpoints'

// Zones for the services the app reaches privately, spelled from the cloud's own suffixes. Key Vault's privatelink
// zone is vaultcore, which has no environment() suffix.
var storageServices = [
  'blob'
  'queue'
  'table'
]
var zoneNames = concat(
  map(storageServices, service => 'privatelink.${service}.${environment().suffixes.storage}'),
  ['privatelink.vaultcore.azure.net']
)

resource network 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: appSubnetName
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 0)
          // Flex Consumption apps join a subnet delegated to Microsoft.App/environments.
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: endpointSubnetName
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 1)
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zoneName in zoneNames: {
    name: zoneName
    location: 'global'
    tags: tags
  }
]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zoneName, i) in zoneNames: {
    parent: zones[i]
    name: name
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: network.id
      }
    }
  }
]

output appSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', network.name, appSubnetName)
output endpointSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', network.name, endpointSubnetName)

@description('Private DNS zone id per private endpoint group id (blob, queue, table, vault).')
output zoneIds object = {
  blob: zones[0].id
  queue: zones[1].id
  table: zones[2].id
  vault: zones[3].id
}
