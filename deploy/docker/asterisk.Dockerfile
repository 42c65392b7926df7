# An Asterisk 22 node: `make images` builds it as localhost/ariscale-asterisk from the Debian sid
# rootfs provision.sh made (Asterisk, its modules and sounds are already in it). The node's
# configuration is rendered by ariscale_cluster, the same code as the native cluster, and mounted
# at the same path it has in the native chroot.
FROM localhost/ariscale-sid
CMD ["/usr/sbin/asterisk", "-V"]
