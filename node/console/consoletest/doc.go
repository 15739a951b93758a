// Package consoletest drives a hub's web console (package console) over HTTP as a
// browser without JavaScript would, for tests: a cookie jar, redirects left for the
// test to see, and every response checked for the console's security headers and for
// inline script or style.
//
// [NewBrowser] opens a [Browser] on a hub that package nodetest started;
// [Browser.Get] and [Browser.Post] return a [Page], whose [Page.CSRF] and [Page.Form]
// read what a form would send. A Browser belongs to one test goroutine.
package consoletest
