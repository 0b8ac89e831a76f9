# Every verified identity may connect, as the PUBLIC role.
package snowgate.connect

decision := {"action": "allow", "role": "PUBLIC", "reasons": []}
